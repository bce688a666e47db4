from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from courses.access import is_member, teaches
from courses.models import Course, StudentGroup


def visible_course(request, slug):
    return get_object_or_404(Course.objects.visible_to(request.user), slug=slug)


def taught_course(request, slug):
    """404 for a course the user cannot see; 403 for one they attend but do not teach."""
    course = visible_course(request, slug)
    if not teaches(request.user, course):
        raise PermissionDenied(_("Only the course's teachers may do this."))
    return course


def visible_group(request, course, pk):
    groups = StudentGroup.objects.visible_to(request.user).select_related("course", "cluster")
    return get_object_or_404(groups, course=course, pk=pk)


def member_or_teacher(request, group):
    """Roles of the user in a group they can see: (is a member, teaches the course)."""
    return is_member(request.user, group), teaches(request.user, group.course)
