from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses import wiki
from courses.access import is_member
from courses.forms import ImageForm, WikiPageForm
from courses.models import StudentGroup
from courses.services import Refused
from courses.views.common import visible_course, visible_group


def _readable_group(request, slug, pk):
    course = visible_course(request, slug)
    groups = StudentGroup.objects.wikis_readable_by(request.user).select_related("course")
    return get_object_or_404(groups, course=course, pk=pk)


def _editable_group(request, slug, pk):
    """Members only (404 for whoever cannot see the group, 403 for its teachers)."""
    course = visible_course(request, slug)
    group = visible_group(request, course, pk)
    if not is_member(request.user, group):
        raise PermissionDenied(_("Only the group's members edit its wiki."))
    return group


def _page(group, page_slug):
    return get_object_or_404(group.wiki_pages, slug=page_slug)


def _assignment(group):
    return group.course.assignments.prefetch_related("rubric_items").last()


def _context(request, group, **extra):
    assignment = _assignment(group)
    return {
        "course": group.course,
        "group": group,
        "pages": group.wiki_pages.all(),
        "can_edit": is_member(request.user, group) and not group.wiki_frozen(),
        "frozen": group.wiki_frozen(),
        "assignment": assignment,
        "checklist": wiki.checklist(group, assignment) if assignment else [],
        **extra,
    }


@login_required
def wiki_index(request, slug, pk):
    group = _readable_group(request, slug, pk)
    first = group.wiki_pages.first()
    if first is not None:
        return redirect(first)
    return render(request, "courses/wiki_page.html", _context(request, group, page=None))


@login_required
def wiki_page(request, slug, pk, page):
    group = _readable_group(request, slug, pk)
    page = _page(group, page)
    current = page.current()
    rendered = wiki.render(current.text, page) if current else ""
    context = _context(request, group, page=page, current=current, rendered=rendered)
    return render(request, "courses/wiki_page.html", context)


@login_required
def wiki_create(request, slug, pk):
    group = _editable_group(request, slug, pk)
    return _edit(request, group, None)


@login_required
def wiki_edit(request, slug, pk, page):
    group = _editable_group(request, slug, pk)
    return _edit(request, group, _page(group, page))


def _edit(request, group, page):
    current = page.current() if page else None
    initial = {"title": page.title, "text": current.text if current else ""} if page else {}
    form = WikiPageForm(request.POST or None, initial=initial, new=page is None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            page = wiki.save_page(
                group,
                request.user,
                data["title"],
                data["text"],
                page=page,
                slug=data.get("slug", ""),
                summary=data["summary"],
            )
        except Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Page saved."))
            return redirect(page)
    images = page.images.all() if page else []
    context = _context(request, group, page=page, form=form, images=images, image_form=ImageForm())
    return render(request, "courses/wiki_edit.html", context)


@login_required
def wiki_history(request, slug, pk, page):
    group = _readable_group(request, slug, pk)
    page = _page(group, page)
    revisions = page.revisions.select_related("author")
    context = _context(request, group, page=page, revisions=revisions)
    return render(request, "courses/wiki_history.html", context)


@login_required
def wiki_revision(request, slug, pk, page, revision):
    group = _readable_group(request, slug, pk)
    page = _page(group, page)
    revision = get_object_or_404(page.revisions.select_related("author"), pk=revision)
    context = _context(
        request, group, page=page, revision=revision, rendered=wiki.render(revision.text, page)
    )
    return render(request, "courses/wiki_revision.html", context)


@login_required
def wiki_diff(request, slug, pk, page):
    group = _readable_group(request, slug, pk)
    page = _page(group, page)
    try:
        old = page.revisions.get(pk=int(request.GET.get("from", "")))
        new = page.revisions.get(pk=int(request.GET.get("to", "")))
    except (ValueError, page.revisions.model.DoesNotExist):
        raise Http404(_("Choose two revisions of this page.")) from None
    rows = wiki.diff_rows(old.text, new.text)
    context = _context(
        request, group, page=page, old=old, new=new, rows=rows or [], too_large=rows is None
    )
    return render(request, "courses/wiki_diff.html", context)


@login_required
@require_POST
def wiki_restore(request, slug, pk, page, revision):
    group = _editable_group(request, slug, pk)
    page = _page(group, page)
    revision = get_object_or_404(page.revisions, pk=revision)
    try:
        wiki.restore(page, revision, request.user)
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The old revision is the current text again."))
    return redirect(page)


@login_required
@require_POST
def wiki_images(request, slug, pk, page):
    group = _editable_group(request, slug, pk)
    page = _page(group, page)
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            image = wiki.upload_image(page, form.cleaned_data["image"], request.user)
        except Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Image uploaded; put it in the page with ![description](%(url)s)")
                % {"url": image.get_absolute_url()},
            )
    else:
        messages.error(request, _("Choose an image to upload."))
    return redirect("courses:wiki_edit", group.course.slug, group.pk, page.slug)


@login_required
def wiki_image(request, slug, pk, page, image):
    group = _readable_group(request, slug, pk)
    page = _page(group, page)
    image = get_object_or_404(page.images, pk=image)
    response = FileResponse(image.file.open("rb"), content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
