"""An operation declared once (vms/operations.py) becomes a button, a URL, rows of the
permission matrix, and a job kind the one runner runs."""

import pytest
from django.urls import reverse

from jobs import registry
from jobs.models import Job, JobStatus
from tests.matrix import test_permission_matrix as matrix
from tests.matrix.world import PERSONAS, build_world
from vms import operations

pytestmark = pytest.mark.django_db


def wave(job, backend, progress):
    """The dummy operation's backend call: it only writes to the job's log."""
    progress.log(f"waving at {job.target}")


@pytest.fixture
def waving():
    """A dummy operation, declared for one test and withdrawn after it."""
    operation = operations.declare(
        operations.Operation(
            kind="wave",
            label="wave",
            call=wave,
            permission="console",
            button="Wave",
            icon="hand-index",
            slug="wave",
        )
    )
    yield operation
    operations.withdraw("wave")


def test_a_declared_operation_is_a_button_on_the_vm_page(waving, client):
    world = build_world()
    client.force_login(world.users["viewer"])  # holds `console` on the VM
    page = client.get(world.vm.get_absolute_url())
    url = reverse("vms:action", args=[world.cluster.slug, world.vm.name, "wave"])
    assert waving in page.context["operations"]
    assert f'href="{url}"'.encode() in page.content
    assert b"bi-hand-index" in page.content


def test_the_button_is_missing_for_whoever_lacks_its_permission(waving, client):
    world = build_world()
    client.force_login(world.users["power_user"])  # holds `power`, not `console`
    page = client.get(world.vm.get_absolute_url())
    assert waving not in page.context["operations"]
    assert b"/wave/" not in page.content


def test_a_declared_operation_is_in_the_permission_matrix_by_its_permission(waving):
    rows = [row for row in matrix.vm_action_cases() if row[0][-1] == "wave"]
    assert [method for _args, method, _expected in rows] == ["get", "post"]
    for _args, _method, expected in rows:
        assert expected == matrix.vm_perm("console", expected["superuser"])


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_the_status_its_rights_give_on_the_new_url(waving, persona, worker):
    world = build_world()
    for args, method, expected in matrix.vm_action_cases():
        if args[-1] != "wave":
            continue
        url = reverse(
            "vms:action", args=[world.cluster.slug, world.vm.name, "wave"]
        )  # the URL the matrix names
        response = getattr(matrix._client(world, persona), method)(url)
        assert response.status_code == expected[persona], f"{persona} {method} {url}"


def test_a_declared_operation_runs_as_a_job_through_the_runner(
    waving, client, worker, django_capture_on_commit_callbacks
):
    world = build_world()
    client.force_login(world.users["viewer"])
    url = reverse("vms:action", args=[world.cluster.slug, world.vm.name, "wave"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    job = Job.objects.get(kind="wave")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert registry.get("wave").label == "wave"
    assert job.get_kind_display() == "wave"

    assert worker.run() == 0

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert f"waving at {world.vm.name}" in job.log
    assert job.progress == 100 and job.worker_name


def test_withdrawing_an_operation_removes_its_url_and_job_kind(client):
    operations.declare(
        operations.Operation(
            kind="wave", label="wave", call=wave, permission="console", slug="wave"
        )
    )
    operations.withdraw("wave")
    world = build_world()
    client.force_login(world.users["superuser"])
    url = reverse("vms:action", args=[world.cluster.slug, world.vm.name, "wave"])
    assert client.get(url).status_code == 404
    with pytest.raises(LookupError):
        registry.get("wave")
