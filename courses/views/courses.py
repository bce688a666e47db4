from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses import grading, services, wiki
from courses.access import can_teach, teaches
from courses.forms import (
    AssignmentForm,
    CourseForm,
    GroupForm,
    JoinForm,
    RubricFormSet,
    StudentImportForm,
)
from courses.models import Course, GroupMembership
from courses.views.common import taught_course, visible_course
from courses.views.groups import latest_run


@login_required
def course_list(request):
    courses = Course.objects.visible_to(request.user).prefetch_related("teachers")
    return render(
        request,
        "courses/course_list.html",
        {"courses": courses, "can_create": can_teach(request.user)},
    )


@login_required
def course_create(request):
    if not can_teach(request.user):
        raise PermissionDenied(_("Only teachers may create courses."))
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            course = form.save()
            course.teachers.add(request.user)
        messages.success(request, _("Course %(title)s created.") % {"title": course.title})
        return redirect(course)
    return render(request, "courses/course_form.html", {"form": form})


@login_required
def course_edit(request, slug):
    course = taught_course(request, slug)
    form = CourseForm(request.POST or None, instance=course)
    if request.method == "POST" and form.is_valid():
        course = form.save()
        messages.success(request, _("Course saved."))
        return redirect(course)
    return render(request, "courses/course_form.html", {"form": form, "course": course})


@login_required
def course_detail(request, slug):
    course = visible_course(request, slug)
    teacher = teaches(request.user, course)
    context = {
        "course": course,
        "is_teacher": teacher,
        "assignments": course.assignments.prefetch_related("rubric_items"),
    }
    if teacher:
        grouped = GroupMembership.objects.filter(course=course).values("student_id")
        context.update(
            groups=course.groups.prefetch_related("memberships__student").select_related("cluster"),
            students=course.students.order_by("username"),
            ungrouped=course.students.exclude(pk__in=grouped).order_by("username"),
            import_form=StudentImportForm(),
            group_form=GroupForm(),
        )
    else:
        membership = (
            GroupMembership.objects.filter(course=course, student=request.user)
            .select_related("group")
            .first()
        )
        context.update(
            my_group=membership.group if membership else None,
            group_form=GroupForm(),
            join_form=JoinForm(),
        )
    return render(request, "courses/course_detail.html", context)


@login_required
def course_students(request, slug):
    """Enrol students by name or CSV (all or nothing), or remove one."""
    course = taught_course(request, slug)
    if request.method == "POST" and "remove" in request.POST:
        student = get_object_or_404(course.students, pk=request.POST.get("remove"))
        services.unenrol(course, student, by=request.user)
        messages.success(
            request, _("%(user)s removed from the course.") % {"user": student.get_username()}
        )
        return redirect(course)
    form = StudentImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                users = services.import_students(course, form.cleaned_data["text"])
        except services.ImportRefused as exc:
            messages.error(request, str(exc))
            problems = exc.problems
        except services.Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(count)s student(s) enrolled.") % {"count": len(users)})
            return redirect(course)
    return render(
        request,
        "courses/course_students.html",
        {"course": course, "form": form, "problems": problems},
    )


@login_required
def assignment_create(request, slug):
    course = taught_course(request, slug)
    form = AssignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            assignment = form.save(commit=False)
            assignment.course = course
            assignment.save()
            if form.cleaned_data.get("ganeti_rubric"):
                grading.add_ganeti_rubric(assignment)
        messages.success(request, _("Assignment created; review its rubric."))
        return redirect("courses:assignment_edit", course.slug, assignment.pk)
    return render(request, "courses/assignment_form.html", {"form": form, "course": course})


@login_required
def assignment_edit(request, slug, pk):
    course = taught_course(request, slug)
    assignment = get_object_or_404(course.assignments, pk=pk)
    form = AssignmentForm(request.POST or None, instance=assignment)
    formset = RubricFormSet(request.POST or None, instance=assignment, prefix="rubric")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        with transaction.atomic():
            form.save()
            formset.save()
        messages.success(request, _("Assignment saved."))
        return redirect(assignment)
    context = {"form": form, "formset": formset, "course": course, "assignment": assignment}
    return render(request, "courses/assignment_form.html", context)


@login_required
def assignment_detail(request, slug, pk):
    course = visible_course(request, slug)
    assignment = get_object_or_404(course.assignments, pk=pk)
    context = {
        "course": course,
        "assignment": assignment,
        "items": assignment.rubric_items.all(),
        "is_teacher": teaches(request.user, course),
    }
    return render(request, "courses/assignment_detail.html", context)


@login_required
@require_POST
def assignment_flags(request, slug, pk):
    """Release or withhold grades; publish or hide the wikis."""
    course = taught_course(request, slug)
    assignment = get_object_or_404(course.assignments, pk=pk)
    for flag in ("grades_released", "published_wikis"):
        if flag in request.POST:
            setattr(assignment, flag, request.POST[flag] == "1")
    assignment.save(update_fields=["grades_released", "published_wikis"])
    messages.success(request, _("Assignment saved."))
    # `next` is the page the buttons were on; anything not of this site goes to the assignment.
    after = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        after, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        after = assignment.get_absolute_url()
    return redirect(after)


@login_required
def grading_sheet(request, slug, pk):
    course = taught_course(request, slug)
    assignment = get_object_or_404(course.assignments, pk=pk)
    groups = list(course.groups.prefetch_related("memberships__student"))
    if request.method == "POST":
        cells = _posted_cells(request, assignment, groups)
        try:
            grading.save_grades(assignment, cells)
        except services.Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Grades saved."))
            return redirect("courses:grades", course.slug, assignment.pk)
    items, rows = grading.sheet(assignment, groups)
    context = {
        "course": course,
        "assignment": assignment,
        "items": items,
        "rows": rows,
        "max_total": assignment.max_total(),
    }
    return render(request, "courses/grading_sheet.html", context)


def _posted_cells(request, assignment, groups):
    items = list(assignment.rubric_items.all())
    cells = {}
    for group in groups:
        for item in items:
            key = f"{group.pk}-{item.pk}"
            if f"points-{key}" in request.POST:
                cells[(group, item)] = (
                    request.POST.get(f"points-{key}", ""),
                    request.POST.get(f"comment-{key}", ""),
                )
    return cells


@login_required
def grading_group(request, slug, pk, group):
    """One group's wiki and evidence beside its grades."""
    course = taught_course(request, slug)
    assignment = get_object_or_404(course.assignments, pk=pk)
    group = get_object_or_404(course.groups.select_related("cluster"), pk=group)
    if request.method == "POST":
        try:
            grading.save_grades(assignment, _posted_cells(request, assignment, [group]))
        except services.Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Grades saved."))
            return redirect("courses:grade_group", course.slug, assignment.pk, group.pk)
    items, rows = grading.sheet(assignment, [group])
    pages = list(group.wiki_pages.all())
    shown = next(
        (p for p in pages if p.slug == request.GET.get("page")), pages[0] if pages else None
    )
    current = shown.current() if shown else None
    context = {
        "course": course,
        "assignment": assignment,
        "group": group,
        "row": rows[0],
        "pages": pages,
        "shown": shown,
        "rendered": wiki.render(current.text, shown) if current else "",
        "checklist": wiki.checklist(group, assignment),
        "run": latest_run(group),
        "max_total": assignment.max_total(),
    }
    return render(request, "courses/grading_group.html", context)


@login_required
def grades_csv(request, slug, pk):
    course = taught_course(request, slug)
    assignment = get_object_or_404(course.assignments, pk=pk)
    response = HttpResponse(grading.export_csv(assignment), content_type="text/csv; charset=utf-8")
    filename = f"{course.slug}-{assignment.pk}-grades.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
