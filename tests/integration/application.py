"""The application as a superuser drives it: forms posted, jobs run by the test worker.

Shared by the integration tests of the VM lifecycle. Nothing here calls a backend: a form is
posted with the Django test client, the job it queues runs in the `worker` fixture against the
real services, and the test reads the Job row, the VM row and the pages.
"""

from __future__ import annotations

from django.urls import resolve, reverse
from django.utils.html import escape

from clusters.models import Cluster
from jobs.models import Job, JobStatus
from vms.models import VirtualMachine


def describe(job: Job) -> str:
    """A job's end, for an assertion's message."""
    return f"job {job.kind} of {job.target} is {job.status}: {job.error}\nlog:\n{job.log}"


def succeeded(job: Job) -> Job:
    assert job.status == JobStatus.SUCCEEDED, describe(job)
    return job


def failed(job: Job) -> Job:
    assert job.status == JobStatus.FAILED, describe(job)
    return job


class App:
    """One superuser's browser session, and the worker that runs the jobs it queues."""

    def __init__(self, client, user, worker, capture):
        self.client, self.user, self.worker, self.capture = client, user, worker, capture
        client.force_login(user)

    @property
    def owner(self) -> str:
        return f"user:{self.user.pk}"

    def post(self, url: str, data: dict | None = None, **kwargs):
        """Post a form; what it queues after its transaction commits is queued for real."""
        with self.capture(execute=True):
            return self.client.post(url, data or {}, **kwargs)

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return response.content.decode()

    def run_jobs(self) -> None:
        """Run every queued RQ job, and those they queue, to the end."""
        while self.worker.queued():
            with self.capture(execute=True):  # a job may queue a sync when it commits
                assert self.worker.run() == 0, "an RQ job failed outside the Job runner"

    # --- registering clusters

    def register(self, **data) -> Cluster:
        response = self.post(reverse("clusters:create"), {"certificate_trust": "pinned", **data})
        assert response.status_code == 302, response.context["form"].errors
        self.run_jobs()
        cluster = Cluster.objects.get(slug=data["slug"])
        assert cluster.last_sync_error == "", cluster.last_sync_error
        assert cluster.connection_test["state"] == "succeeded", cluster.connection_test
        return cluster

    def register_ganeti(self, testbed) -> Cluster:
        return self.register(
            name="Test Ganeti",
            slug="gwtest",
            kind="ganeti",
            rapi_host=testbed.rapi_host,
            rapi_port=str(testbed.rapi_port),
            rapi_user=testbed.rapi_user,
            rapi_password=testbed.rapi_password,
            pinned_fingerprint=testbed.cert_sha256,
            nic_links="gnt-br0",  # the test bed's bridge, approved for VMs' NICs
        )

    def register_libvirt(self, uri: str) -> Cluster:
        return self.register(
            name="Local hosts",
            slug="local",
            kind="libvirt",
            libvirt_uris=uri,
            rapi_port="5080",
            on_this_machine=True,
        )

    # --- jobs

    def _job(self, response) -> Job:
        assert response.status_code == 302, _form_errors(response)
        match = resolve(response["Location"])
        assert match.url_name == "detail" and match.namespace == "jobs", (
            f"refused: sent back to {response['Location']}, not to a job page"
        )
        return Job.objects.get(pk=match.kwargs["pk"])

    def ask_creation(
        self,
        cluster: Cluster,
        name: str,
        disk_template: str,
        *,
        disks: tuple[int, ...] = (),
        nics: tuple[dict, ...] = (),
        memory: int = 64,
        os: str | None = "noop",
        start: bool = True,
        placement: str = "",
    ) -> Job:
        """Post the creation form; return its queued Job."""
        data = {
            "name": name,
            "owner": self.owner,
            "vcpus": "1",
            "memory": str(memory),
            "disk_template": disk_template,
            "placement": placement,
            "disks-TOTAL_FORMS": str(len(disks)),
            "disks-INITIAL_FORMS": "0",
            "nics-TOTAL_FORMS": str(len(nics)),
            "nics-INITIAL_FORMS": "0",
        }
        if os is not None:
            data["os"] = os
        if start:
            data["start"] = "on"
        for i, size in enumerate(disks):
            data[f"disks-{i}-size"] = str(size)
        for i, nic in enumerate(nics):
            data.update({f"nics-{i}-{key}": value for key, value in nic.items()})
        return self._job(self.post(reverse("vms:create", args=[cluster.slug]), data))

    def create(self, cluster: Cluster, name: str, disk_template: str, **fields) -> Job:
        """Create a VM through the form; return its Job once it has ended."""
        return self.finish(self.ask_creation(cluster, name, disk_template, **fields))

    def ask(self, vm: VirtualMachine, action: str, **data) -> Job:
        """Post an action's form; return its queued Job."""
        url = reverse("vms:action", args=[vm.cluster.slug, vm.name, action])
        return self._job(self.post(url, data))

    def act(self, vm: VirtualMachine, action: str, **data) -> Job:
        """Post an action's form and run its job; return the Job once it has ended."""
        return self.finish(self.ask(vm, action, **data))

    def act_on_node(self, node, action: str) -> Job:
        url = reverse("vms:node_action", args=[node.cluster.slug, node.name, action])
        return self.finish(self._job(self.post(url)))

    def finish(self, job: Job) -> Job:
        """Run the queued jobs; check the job ended and its page shows how."""
        self.run_jobs()
        job.refresh_from_db()
        assert job.finished, describe(job)
        page = self.page(job.get_absolute_url())
        assert escape(job.error) in page
        return job

    def refused(self, vm: VirtualMachine, action: str, **data) -> str:
        """Post an action the application refuses; return its message. No job is made."""
        jobs = Job.objects.count()
        url = reverse("vms:action", args=[vm.cluster.slug, vm.name, action])
        response = self.post(url, data, follow=True)
        assert response.redirect_chain[-1][0] == vm.get_absolute_url(), response.redirect_chain
        assert Job.objects.count() == jobs
        return " ".join(str(message) for message in response.context["messages"])


def _form_errors(response) -> str:
    context = response.context or {}
    forms = [context.get(name) for name in ("form", "disks", "nics")]
    return f"answered {response.status_code}: " + "; ".join(
        str(getattr(form, "errors", "")) + str(getattr(form, "non_form_errors", lambda: "")())
        for form in forms
        if form is not None
    )
