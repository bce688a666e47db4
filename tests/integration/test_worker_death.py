"""A worker killed in the middle of a job: the next worker ends the job, or follows it again.

Real `manage.py rqworker` processes (jobs.recovery.RecoveringWorker, which forks a work horse
per job) share the test database file and the test Redis. A worker runs in its own process
group; RQ puts each work horse in a group of its own too, so a kill stops the worker, finds its
horse, and SIGKILLs both groups at once, as the OOM killer or a power cut would. The workers'
output goes to a file that a failure prints.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.html import escape

from clusters.models import Node
from jobs.models import Job, JobStatus
from vms.models import VirtualMachine

from .application import describe

pytestmark = pytest.mark.django_db(transaction=True)

# Seconds a step may take before the test fails saying which step it was.
WAIT = 60


class Workers:
    """Starts real worker processes on the test database and Redis; kills what it started."""

    def __init__(self, env: dict, output: Path):
        self.env, self.output = env, output
        self.processes: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        command = [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "rqworker",
            "default",
            "--worker-class",
            "jobs.recovery.RecoveringWorker",
            *args,
        ]
        with self.output.open("ab") as output:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for os.killpg
            )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> list[int]:
        """SIGKILL the worker and its work horses; reap the worker, so that its pid is gone.

        Return the horses' pids. The worker is stopped first, so that it forks no other.
        """
        os.killpg(process.pid, signal.SIGSTOP)
        horses = children(process.pid)
        for group in [process.pid, *horses]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        process.wait(timeout=10)
        return horses

    def run_burst(self) -> None:
        """A new worker: it recovers what the dead one left, runs the queue, and exits."""
        process = self.start("--burst")
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"The burst worker did not exit within {WAIT} s.\n{self.log()}")
        assert process.returncode == 0, (
            f"The burst worker exited {process.returncode}.\n{self.log()}"
        )

    def wait_for(self, job: Job, condition, what: str) -> Job:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if condition(job):
                return job
            time.sleep(0.2)
        pytest.fail(f"{what} within {WAIT} s.\n{describe(job)}\n{self.log()}")

    def log(self) -> str:
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        return f"--- worker output ({self.output}) ---\n{text}"

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


def children(pid: int) -> list[int]:
    """The pids of the processes whose parent is `pid`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:  # the fields after "pid (comm)": state, ppid, ...
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def workers(worker, redis_server, tmp_path):
    """Real workers on the test database file and the test Redis (which `worker` emptied)."""
    env = dict(os.environ)
    values = {
        "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
        "REDIS_URL": redis_server.url,
        "GANETIWEB_DATA_DIR": str(tmp_path / "data"),
        # The same keys as this process, so that the stored RAPI password decrypts.
        "SECRET_KEY": settings.SECRET_KEY,
        "CREDENTIALS_KEYS": ",".join(settings.CREDENTIALS_KEYS),
        "PYTHONUNBUFFERED": "1",
    }
    for name in values:
        env.pop(f"{name}_FILE", None)
    env.update(values)
    found = Workers(env, tmp_path / "worker.log")
    yield found
    found.stop_all()


def test_a_shutdown_whose_worker_is_killed_ends_failed_and_the_vm_keeps_running(
    app, workers, libvirt_uri, tiny_vm
):
    cluster = app.register_libvirt(libvirt_uri)
    vm = VirtualMachine.objects.get(cluster=cluster, name=tiny_vm.name())
    # The guest has only firmware: it ignores the power button, and the job waits 120 s.
    job = app.ask(vm, "shutdown", timeout="120")
    first = workers.start()
    workers.wait_for(job, lambda j: j.status == JobStatus.RUNNING, "The worker did not start")

    assert workers.kill(first), "the worker had no work horse to kill"
    workers.run_burst()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED, f"{describe(job)}\n{workers.log()}"
    assert job.error.startswith("The worker running this job stopped before the job ended")
    assert job.finished_at is not None
    assert escape(job.error) in app.page(job.get_absolute_url())
    assert tiny_vm.isActive()
    assert VirtualMachine.objects.get(pk=vm.pk).actual_state == "running"


def test_a_creation_whose_worker_is_killed_is_followed_to_its_end_by_the_next_worker(
    app, workers, ganeti_cluster, instance_names, superuser
):
    cluster = app.register_ganeti(ganeti_cluster)
    master = Node.objects.get(cluster=cluster, name=ganeti_cluster.master_node)
    name = instance_names()
    job = app.ask_creation(cluster, name, "diskless", nics=({},), placement=master.name)
    first = workers.start()
    workers.wait_for(job, lambda j: j.remote_job_id, "The worker did not submit the Ganeti job")

    assert workers.kill(first), "the worker had no work horse to kill"
    workers.run_burst()

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, f"{describe(job)}\n{workers.log()}"
    assert (
        f"The worker running this job stopped; following cluster job {job.remote_job_id} "
        "to its end." in job.log
    )
    assert job.progress == 100
    vm = VirtualMachine.objects.get(cluster=cluster, name=name)
    assert job.vm == vm
    assert (vm.actual_state, vm.primary_node, vm.owner_user) == ("running", master, superuser)
    assert name in app.page(vm.get_absolute_url())
    assert ganeti_cluster.rapi("GET", f"/2/instances/{name}")["status"] == "running"
