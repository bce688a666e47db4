"""Job pages: the list, one job with live progress, cancel and retry."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jobs import runner
from jobs.models import Job, JobStatus
from jobs.registry import JobRefused

PAGE_SIZE = 50


def _visible_jobs(request):
    return Job.objects.visible_to(request.user).select_related(
        "cluster", "vm", "vm__cluster", "node", "requested_by"
    )


def _id_parameter(request, name):
    """The id given as ?NAME=, or None; a 404 for anything but an id (not a 500 from the
    query). At most 18 digits: a larger number overflows SQLite's integers, and no row has it."""
    value = request.GET.get(name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise Http404
    return int(value)


@login_required
def job_list(request):
    """Jobs the user may see: theirs by default, or those of one VM, node or cluster."""
    jobs = _visible_jobs(request)
    scope = request.GET.get("scope", "mine")
    vm_id, node_id = _id_parameter(request, "vm"), _id_parameter(request, "node")
    if vm_id is not None:
        jobs, scope = jobs.filter(vm_id=vm_id), "vm"
    elif node_id is not None:
        jobs, scope = jobs.filter(node_id=node_id), "node"
    elif request.GET.get("cluster"):
        jobs, scope = jobs.filter(cluster__slug=request.GET["cluster"]), "cluster"
    elif scope == "mine":
        jobs = jobs.filter(requested_by=request.user)
    if request.GET.get("status") in JobStatus.values:
        jobs = jobs.filter(status=request.GET["status"])
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "scope": scope, "query": query.urlencode(), "statuses": JobStatus}
    return render(request, "jobs/job_list.html", context)


def _job_context(request, job):
    return {
        "job": job,
        "can_cancel": job.status == JobStatus.QUEUED,
        "can_retry": (
            job.status in (JobStatus.FAILED, JobStatus.CANCELED) and job.job_type.retry is not None
        ),
        "show_traceback": request.user.is_superuser and job.traceback,
    }


@login_required
def job_page(request, pk):
    job = get_object_or_404(_visible_jobs(request), pk=pk)
    template = "jobs/job_status.html" if request.htmx else "jobs/job_detail.html"
    return render(request, template, _job_context(request, job))


@login_required
@require_POST
def job_cancel(request, pk):
    job = get_object_or_404(_visible_jobs(request), pk=pk)
    if runner.cancel(job, request.user):
        messages.success(request, _("The job was canceled before it started."))
    else:
        messages.error(request, _("The job has already started; it runs to its end."))
    return redirect(job)


@login_required
@require_POST
def job_retry(request, pk):
    job = get_object_or_404(_visible_jobs(request), pk=pk)
    try:
        clone = runner.retry(job, request.user)
    except JobRefused as refused:
        messages.error(request, str(refused))
        return redirect(job)
    return redirect(clone)
