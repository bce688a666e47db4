"""Who may see what in the coursework module: the querysets every view fetches through.

- superusers see everything; anonymous and inactive users nothing;
- a course is seen by its teachers and its enrolled students;
- a group (its page, cluster, checks and grades) by its members and its course's teachers;
- a group's wiki also by the course's students once an assignment past its deadline has
  published the wikis.
An object outside these sets is a 404, so its existence is not confirmed.
"""

from django.db.models import Q
from django.utils import timezone


def can_teach(user):
    """May create courses (the global `courses.teach` permission)."""
    return user.is_authenticated and user.is_active and user.has_perm("courses.teach")


def _anonymous(user):
    return not user.is_authenticated or not user.is_active


def taught_courses(queryset, user):
    if _anonymous(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(pk__in=user.courses_taught.values("pk"))


def visible_courses(queryset, user):
    if _anonymous(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(
        Q(pk__in=user.courses_taught.values("pk")) | Q(pk__in=user.courses_enrolled.values("pk"))
    )


def visible_groups(queryset, user):
    if _anonymous(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(
        Q(course__in=user.courses_taught.values("pk"))
        | Q(pk__in=user.group_memberships.values("group_id"))
    )


def readable_wikis(queryset, user):
    if _anonymous(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    # Imported here: courses.models imports this module for its querysets.
    from courses.models import Assignment

    published = Assignment.objects.filter(
        published_wikis=True,
        deadline__lte=timezone.now(),
        course__in=user.courses_enrolled.values("pk"),
    ).values("course_id")
    return queryset.filter(
        Q(course__in=user.courses_taught.values("pk"))
        | Q(pk__in=user.group_memberships.values("group_id"))
        | Q(course__in=published)
    )


def teaches(user, course):
    return user.is_active and (user.is_superuser or course.teachers.filter(pk=user.pk).exists())


def is_member(user, group):
    return user.is_authenticated and group.memberships.filter(student=user).exists()
