"""A group's "RAPI" that never answers holds a worker only until the checks' deadline, and
only a worker of the coursework queue: VM jobs and syncs never wait behind it."""

import dataclasses
import socket
import threading
import time
from datetime import timedelta

import django_rq
import pytest
from django.urls import reverse
from django.utils import timezone

from clusters.models import Cluster
from courses import services
from courses.choices import CheckRunStatus
from courses.jobs import DEPLOYMENT_CHECKS
from courses.models import CheckRun
from jobs import registry

pytestmark = pytest.mark.django_db

DEADLINE = 2
# The RAPI client's own timeout for each connect and each read: without a deadline for the
# whole run, a silent server holds the worker at least this long (and one that trickles bytes
# for ever, far longer).
READ_TIMEOUT = 15


@pytest.fixture
def silent_rapi():
    """A hostile "RAPI": it accepts every connection and never says a word. It listens on
    this machine, so the test marks the group's cluster as running here (as a superuser
    would), or the destination policy would refuse it before the deadline is ever tested."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    held, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[:2]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def short_deadline():
    """The checks' job kind as a worker started with COURSEWORK_CHECK_DEADLINE=2 has it."""
    declared = registry.get(DEPLOYMENT_CHECKS)
    registry.unregister(DEPLOYMENT_CHECKS)
    registry.register(dataclasses.replace(declared, timeout=DEADLINE))
    yield DEADLINE
    registry.unregister(DEPLOYMENT_CHECKS)
    registry.register(declared)


def _run_checks(client, group, capture):
    with capture(execute=True):
        response = client.post(reverse("courses:checks_run", args=[group.course.slug, group.pk]))
    assert response.status_code == 302


def test_the_checks_run_on_their_own_queue_with_the_deadline_as_timeout(
    login, students, group_a, worker, django_capture_on_commit_callbacks
):
    _run_checks(login(students[0]), group_a, django_capture_on_commit_callbacks)
    coursework = django_rq.get_queue("coursework")
    assert [job.timeout for job in coursework.jobs] == [120]
    assert all(len(django_rq.get_queue(name)) == 0 for name in ("high", "default", "low"))


def test_a_rapi_that_never_answers_ends_the_run_at_the_deadline(
    login,
    students,
    group_a,
    worker,
    silent_rapi,
    short_deadline,
    django_capture_on_commit_callbacks,
):
    host, port = silent_rapi
    client = login(students[0])
    response = client.post(
        reverse("courses:group_cluster", args=[group_a.course.slug, group_a.pk]),
        {
            "rapi_host": host,
            "rapi_port": port,
            "rapi_user": "ro",
            "rapi_password": "pw",
            "fingerprint": "AB" * 32,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    Cluster.objects.filter(student_group=group_a).update(on_this_machine=True)
    _run_checks(client, group_a, django_capture_on_commit_callbacks)

    started = time.monotonic()
    worker.run()
    elapsed = time.monotonic() - started

    run = CheckRun.objects.get(group=group_a)
    assert run.status == CheckRunStatus.FAILED and run.finished_at is not None
    reachable = run.results.get(name="reachable")
    assert reachable.message == "deadline"
    assert reachable.details.startswith("The checks took longer than 2 s and were stopped")
    assert elapsed < READ_TIMEOUT
    page = client.get(group_a.get_absolute_url()).content.decode()
    assert "The checks took longer than 2 s and were stopped" in page


def test_a_run_older_than_twice_the_deadline_is_taken_for_lost(students, group_a, worker):
    lost = CheckRun.objects.create(
        group=group_a, requested_by=students[0], status=CheckRunStatus.RUNNING
    )
    CheckRun.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(seconds=2 * 120 + 1)
    )
    run = services.start_check_run(group_a, students[1])
    lost.refresh_from_db()
    assert lost.status == CheckRunStatus.FAILED and lost.error == "lost by its worker"
    assert run.status == CheckRunStatus.QUEUED
