"""What each kind of job is: declared once by the app that owns it, looked up by the runner.

An app declares a `JobType` per kind (vms: the VM and node operations and the inventory sync;
clusters: the connection test; courses: the deployment checks) and registers it when its
module is imported (`AppConfig.ready`). The runner, the job pages and the worker's recovery
read everything they need about a kind from here, so jobs/ imports none of those apps.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from jobs.models import Job

# Long enough for a Ganeti job that installs an OS or migrates a large VM.
DEFAULT_TIMEOUT = 3 * 3600


class JobRefused(Exception):
    """A job cannot be asked for (or asked for again) now; the message says why."""


@dataclass(frozen=True)
class JobType:
    """One kind of job.

    - `run(job, progress)` does the work in the worker; it raises to fail the job. An
      exception of `expected_errors` is an expected failure (its text is the job's error); any
      other is a crash (a readable error, and the traceback for superusers).
    - `abandoned(job)` tidies up after a worker died mid-job (the job is already failed).
    - `check_manage(user, job)` raises PermissionDenied unless the user may cancel or retry it.
    - `retry(job, user)` queues it again through the normal request path, checking the
      permission and that the job failed or was canceled; None: no retry.
    """

    kind: str
    label: Any  # a lazy translatable string
    run: Callable[["Job", Any], None]
    expected_errors: tuple[type[BaseException], ...] = ()
    queue: str = "default"
    timeout: int = DEFAULT_TIMEOUT
    abandoned: Callable[["Job"], None] | None = None
    check_manage: Callable[[Any, "Job"], None] | None = None
    retry: Callable[["Job", Any], "Job"] | None = None


_TYPES: dict[str, JobType] = {}


def register(job_type: JobType) -> JobType:
    """Declare a kind; declaring the same kind twice is a mistake (two apps, one name)."""
    known = _TYPES.get(job_type.kind)
    if known is not None and known != job_type:
        raise ValueError(f"The job kind {job_type.kind!r} is declared twice.")
    _TYPES[job_type.kind] = job_type
    return job_type


def unregister(kind: str) -> None:
    """Forget a kind (tests that declare one of their own)."""
    _TYPES.pop(kind, None)


def get(kind: str) -> JobType:
    try:
        return _TYPES[kind]
    except KeyError:
        raise LookupError(f"No job kind {kind!r} is declared.") from None


def label_of(kind: str):
    job_type = _TYPES.get(kind)
    return job_type.label if job_type else _("unknown operation (%(kind)s)") % {"kind": kind}


def kinds() -> dict[str, JobType]:
    return dict(_TYPES)
