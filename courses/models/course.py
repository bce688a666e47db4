"""Courses, their assignments and rubrics, and the student groups."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses import access

MAX_GROUP_SIZE = 4
# No 0/O, 1/I/L: codes are read aloud and copied by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class CourseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Courses the user teaches or is enrolled in (every course for superusers)."""
        return access.visible_courses(self, user)

    def taught_by(self, user):
        return access.taught_courses(self, user)


class Course(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="courses_taught", verbose_name=_("teachers")
    )
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="courses_enrolled",
        blank=True,
        verbose_name=_("students"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        # Global (not per object): a teacher may create courses; they then teach those.
        permissions = [("teach", _("Can create and teach courses"))]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("courses:detail", args=[self.slug])

    def deadline(self):
        """The last deadline of the course's assignments; None without assignments."""
        return self.assignments.aggregate(last=Max("deadline"))["last"]

    def groups_frozen_by(self):
        """The assignment whose deadline froze the groups (the first deadline that passed), or
        None while students may still join and leave. From then on only teachers change the
        groups, so no one is credited with work done before they joined."""
        passed = self.assignments.filter(deadline__lte=timezone.now())
        return passed.order_by("deadline", "pk").first()


class Assignment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    deadline = models.DateTimeField(_("deadline"))
    published_wikis = models.BooleanField(
        _("wikis published"),
        default=False,
        help_text=_("After the deadline, every student of the course may read every group's wiki."),
    )
    grades_released = models.BooleanField(
        _("grades released"),
        default=False,
        help_text=_("Groups see their grades and feedback."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deadline", "pk"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("courses:assignment", args=[self.course.slug, self.pk])

    @property
    def past_deadline(self):
        return timezone.now() >= self.deadline

    def max_total(self):
        return sum(item.max_points for item in self.rubric_items.all())


class RubricItem(models.Model):
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="rubric_items"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=2)
    required_heading = models.CharField(
        _("heading keywords"),
        max_length=300,
        blank=True,
        help_text=_(
            "Comma-separated words; the wiki covers this item when one of its headings "
            "contains one of them. Leave empty when the wiki need not have a section for it."
        ),
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["assignment", "order", "pk"]
        verbose_name = _("rubric item")
        verbose_name_plural = _("rubric items")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_points__gt=0), name="rubric_item_max_points_positive"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def keywords(self):
        return [word.strip() for word in self.required_heading.split(",") if word.strip()]


class StudentGroupQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Groups the user belongs to, or whose course they teach (all for superusers)."""
        return access.visible_groups(self, user)

    def wikis_readable_by(self, user):
        """visible_to, plus the groups whose wikis the teacher published to the course."""
        return access.readable_wikis(self, user)


def new_invitation_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


class StudentGroup(models.Model):
    """A group of at most four students of one course, with its wiki and its cluster."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=100)
    invitation_code = models.CharField(
        _("invitation code"), max_length=16, unique=True, default=new_invitation_code
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="GroupMembership",
        related_name="student_groups",
        verbose_name=_("members"),
    )
    # The teacher reopened the wiki after the deadline.
    reopened = models.BooleanField(_("wiki reopened"), default=False)
    cluster = models.OneToOneField(
        "clusters.Cluster",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="student_group",
        verbose_name=_("cluster"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StudentGroupQuerySet.as_manager()

    class Meta:
        ordering = ["course", "name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="group_name_unique_in_course")
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("courses:group", args=[self.course.slug, self.pk])

    def wiki_frozen(self):
        """After the course's deadline students may no longer edit, unless reopened."""
        if self.reopened:
            return False
        deadline = self.course.deadline()
        return deadline is not None and timezone.now() >= deadline


class GroupMembership(models.Model):
    """A student in a group; the course is repeated so that the database itself refuses a
    second group for the same student in the same course."""

    group = models.ForeignKey(StudentGroup, on_delete=models.CASCADE, related_name="memberships")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["course", "student"], name="one_group_per_student_per_course"
            )
        ]

    def __str__(self):
        return f"{self.student} @ {self.group}"


class MembershipChange(models.Model):
    """A student put in, or taken out of, a group, and by whom: every change is on record,
    those a teacher makes after the groups froze included."""

    group = models.ForeignKey(
        StudentGroup, on_delete=models.CASCADE, related_name="membership_changes"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("student"),
    )
    joined = models.BooleanField(_("joined"), help_text=_("Put in the group; else taken out."))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    after_deadline = models.BooleanField(_("after the groups froze"), default=False)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("group membership change")
        verbose_name_plural = _("group membership changes")

    def __str__(self):
        return f"{self.student} {'+' if self.joined else '-'} {self.group}"
