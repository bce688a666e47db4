from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses import grading, services
from courses.access import teaches
from courses.forms import ClusterRegistrationForm, GroupForm, JoinForm
from courses.models import GroupMembership
from courses.views.common import (
    member_or_teacher,
    taught_course,
    visible_course,
    visible_group,
)

CHECK_HISTORY = 20
MEMBERSHIP_HISTORY = 20


def latest_run(group):
    return group.check_runs.prefetch_related("results").first()


@login_required
@require_POST
def group_create(request, slug):
    course = visible_course(request, slug)
    teacher = teaches(request.user, course)
    if not teacher and not course.students.filter(pk=request.user.pk).exists():
        raise PermissionDenied(_("Only the course's students and teachers may create groups."))
    form = GroupForm(request.POST)
    if form.is_valid():
        founder = None if teacher else request.user
        try:
            group = services.create_group(course, form.cleaned_data["name"], founder)
        except services.Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Group %(name)s created.") % {"name": group.name})
            return redirect(group)
    else:
        messages.error(request, _("Give the group a name."))
    return redirect(course)


@login_required
@require_POST
def group_join(request, slug):
    course = visible_course(request, slug)
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            group = services.join_by_code(course, request.user, form.cleaned_data["code"])
        except services.Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("You joined the group %(name)s.") % {"name": group.name})
            return redirect(group)
    return redirect(course)


@login_required
def group_detail(request, slug, pk):
    course = visible_course(request, slug)
    group = visible_group(request, course, pk)
    member, teacher = member_or_teacher(request, group)
    assignments = list(course.assignments.all())
    released = []
    for assignment in assignments:
        if teacher or assignment.grades_released:
            items, rows = grading.sheet(assignment, [group])
            released.append((assignment, rows[0][1], rows[0][2], assignment.max_total()))
    context = {
        "course": course,
        "group": group,
        "is_member": member,
        "is_teacher": teacher,
        "memberships": group.memberships.select_related("student"),
        "run": latest_run(group),
        "runs": group.check_runs.select_related("requested_by")[:CHECK_HISTORY],
        "grades": released,
        "pages": group.wiki_pages.all(),
        "frozen": group.wiki_frozen(),
        "groups_frozen_by": course.groups_frozen_by(),
    }
    if teacher:
        grouped = GroupMembership.objects.filter(course=course).values("student_id")
        context["ungrouped"] = course.students.exclude(pk__in=grouped).order_by("username")
        context["membership_changes"] = group.membership_changes.select_related("student", "by")[
            :MEMBERSHIP_HISTORY
        ]
    return render(request, "courses/group_detail.html", context)


@login_required
@require_POST
def group_leave(request, slug, pk):
    course = visible_course(request, slug)
    group = visible_group(request, course, pk)
    try:
        services.remove_member(group, request.user, by=request.user)
    except services.Refused as exc:
        messages.error(request, str(exc))
        return redirect(group)
    messages.success(request, _("You left the group %(name)s.") % {"name": group.name})
    return redirect(course)


@login_required
@require_POST
def group_members(request, slug, pk):
    """The teacher puts a student in the group, or takes one out."""
    course = taught_course(request, slug)
    group = visible_group(request, course, pk)
    try:
        if request.POST.get("add"):
            student = get_object_or_404(course.students, pk=request.POST["add"])
            services.add_member(group, student, by=request.user)
            messages.success(
                request, _("%(user)s added to the group.") % {"user": student.get_username()}
            )
        elif request.POST.get("remove"):
            student = get_object_or_404(group.members, pk=request.POST["remove"])
            services.remove_member(group, student, by=request.user)
            messages.success(
                request, _("%(user)s removed from the group.") % {"user": student.get_username()}
            )
    except services.Refused as exc:
        messages.error(request, str(exc))
    return redirect(group)


@login_required
@require_POST
def group_reopen(request, slug, pk):
    course = taught_course(request, slug)
    group = visible_group(request, course, pk)
    group.reopened = request.POST.get("reopened") == "1"
    group.save(update_fields=["reopened"])
    if group.reopened:
        messages.success(request, _("The wiki is open for the group again."))
    else:
        messages.success(request, _("The wiki follows the deadline again."))
    return redirect(group)


@login_required
def group_cluster(request, slug, pk):
    """The group registers (or changes) its Ganeti cluster; no request reaches the cluster."""
    course = visible_course(request, slug)
    group = visible_group(request, course, pk)
    cluster = group.cluster
    initial = {}
    if cluster is not None:
        initial = {
            "rapi_host": cluster.rapi_host,
            "rapi_port": cluster.rapi_port,
            "rapi_user": cluster.rapi_user,
            "fingerprint": cluster.pinned_fingerprint,
        }
    form = ClusterRegistrationForm(
        request.POST or None, initial=initial, has_password=cluster is not None
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.register_cluster(
            group,
            data["rapi_host"],
            data["rapi_port"],
            data["rapi_user"],
            data["rapi_password"],
            data["fingerprint"],
        )
        messages.success(request, _("Cluster saved; run the checks to see it answer."))
        return redirect(group)
    return render(
        request, "courses/group_cluster.html", {"course": course, "group": group, "form": form}
    )


@login_required
@require_POST
def group_trust(request, slug, pk):
    course = visible_course(request, slug)
    group = visible_group(request, course, pk)
    try:
        services.trust_seen_certificate(group, request.POST.get("fingerprint", ""))
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Certificate trusted; run the checks again."))
    return redirect(group)


@login_required
@require_POST
def checks_run(request, slug, pk):
    course = visible_course(request, slug)
    group = visible_group(request, course, pk)
    try:
        run = services.start_check_run(group, request.user)
    except services.Refused as exc:
        messages.error(request, str(exc))
        return redirect(group)
    return redirect(run)


@login_required
def check_run(request, slug, pk, run):
    course = visible_course(request, slug)
    group = visible_group(request, course, pk)
    run = get_object_or_404(group.check_runs.prefetch_related("results"), pk=run)
    context = {"course": course, "group": group, "run": run}
    if request.htmx:
        return render(request, "courses/check_run_status.html", context)
    return render(request, "courses/check_run.html", context)
