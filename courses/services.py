"""The rules of courses and groups: enrolment, membership, the group's cluster, check runs.

Views, the admin and jobs call these; each raises Refused with a sentence for the user when a
rule says no.
"""

import csv
import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from clusters.choices import CertificateTrust, ClusterKind
from clusters.models import Cluster
from courses.choices import CheckRunStatus
from courses.jobs import JOB_TIMEOUT, enqueue_check_run
from courses.models import CheckRun, GroupMembership, StudentGroup
from courses.models.course import MAX_GROUP_SIZE

HEADER_WORDS = {"username", "user", "email", "e-mail", "usuario", "usuário", "login"}


class Refused(Exception):
    """A rule refused the action; str() is a sentence for the user."""


class ImportRefused(Refused):
    def __init__(self, problems):
        self.problems = problems
        super().__init__(_("Nothing was imported: fix the rows listed and upload again."))


# --- enrolment


def parse_student_list(text):
    """Users named in a CSV (or one per line) by user name or e-mail, first column.

    Returns (users, problems); problems are (line number, value, reason) for rows that name
    no user, or several.
    """
    User = get_user_model()
    users, problems, seen = [], [], set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        value = (row[0] if row else "").strip()
        if not value or value.startswith("#"):
            continue
        if not users and not problems and value.lower() in HEADER_WORDS:
            continue
        if "@" in value:
            matches = list(User.objects.filter(email__iexact=value, is_active=True)[:2])
        else:
            matches = list(User.objects.filter(username__iexact=value, is_active=True)[:2])
        if not matches:
            problems.append((number, value, _("no user with this user name or e-mail")))
        elif len(matches) > 1:
            problems.append((number, value, _("several users have this e-mail")))
        elif matches[0].pk not in seen:
            seen.add(matches[0].pk)
            users.append(matches[0])
    return users, problems


def import_students(course, text):
    """Enrol every user the CSV names, or none when a row is wrong; return those enrolled."""
    users, problems = parse_student_list(text)
    if problems:
        raise ImportRefused(problems)
    if not users:
        raise Refused(_("The file names no students."))
    course.students.add(*users)
    return users


def unenrol(course, student):
    with transaction.atomic():
        for membership in GroupMembership.objects.filter(course=course, student=student):
            remove_member(membership.group, student)
        course.students.remove(student)


# --- groups


def create_group(course, name, founder=None):
    """A new group; a student who creates it is its first member."""
    name = name.strip()
    if not name:
        raise Refused(_("Give the group a name."))
    with transaction.atomic():
        if course.groups.filter(name__iexact=name).exists():
            raise Refused(_("The course already has a group called %(name)s.") % {"name": name})
        group = StudentGroup.objects.create(course=course, name=name)
        if founder is not None:
            add_member(group, founder)
    return group


def join_by_code(course, student, code):
    group = (
        StudentGroup.objects.filter(course=course, invitation_code=code.strip().upper())
        .select_related("course")
        .first()
    )
    if group is None:
        raise Refused(
            _("No group of this course has the invitation code %(code)s.") % {"code": code}
        )
    add_member(group, student)
    return group


def add_member(group, student):
    """Put a student of the course in the group: at most four, one group per course."""
    with transaction.atomic():
        # Lock the group: two students joining at once cannot both be the fourth.
        group = StudentGroup.objects.select_for_update().get(pk=group.pk)
        if not group.course.students.filter(pk=student.pk).exists():
            raise Refused(
                _("%(user)s is not enrolled in this course.") % {"user": student.get_username()}
            )
        current = GroupMembership.objects.filter(course=group.course, student=student).first()
        if current is not None:
            if current.group_id == group.pk:
                raise Refused(
                    _("%(user)s is already in this group.") % {"user": student.get_username()}
                )
            raise Refused(
                _(
                    "%(user)s is already in the group %(group)s; a student is in one group per "
                    "course."
                )
                % {"user": student.get_username(), "group": current.group.name}
            )
        if group.memberships.count() >= MAX_GROUP_SIZE:
            raise Refused(
                _("The group %(group)s is full: a group has at most %(max)s students.")
                % {"group": group.name, "max": MAX_GROUP_SIZE}
            )
        try:
            with transaction.atomic():
                GroupMembership.objects.create(group=group, student=student, course=group.course)
        except IntegrityError:
            raise Refused(
                _("%(user)s joined another group meanwhile.") % {"user": student.get_username()}
            ) from None
        sync_cluster_access(group)
    return group


def remove_member(group, student):
    with transaction.atomic():
        GroupMembership.objects.filter(group=group, student=student).delete()
        sync_cluster_access(group)


# --- the group's cluster


def cluster_viewers(group):
    User = get_user_model()
    return User.objects.filter(
        Q(pk__in=group.memberships.values("student_id"))
        | Q(pk__in=group.course.teachers.values("pk"))
    )


def sync_cluster_access(group):
    """Members and teachers may see the group's cluster; nobody else through the group."""
    cluster = group.cluster
    if cluster is None:
        return
    wanted = set(cluster_viewers(group))
    current = set(get_users_with_perms(cluster, only_with_perms_in=["view_cluster"]))
    for user in wanted - current:
        assign_perm("clusters.view_cluster", user, cluster)
    for user in current - wanted:
        remove_perm("clusters.view_cluster", user, cluster)


def sync_course_access(course):
    for group in course.groups.exclude(cluster=None).select_related("cluster", "course"):
        sync_cluster_access(group)


def _cluster_name(group):
    base = f"{group.course.slug}-{slugify(group.name) or group.pk}"[:80]
    slug, n = base, 1
    while Cluster.objects.filter(Q(slug=slug) | Q(name=slug)).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def register_cluster(group, rapi_host, rapi_port, rapi_user, rapi_password, fingerprint=""):
    """Create or update the group's Ganeti cluster; keep the password when none is given."""
    with transaction.atomic():
        cluster = group.cluster
        if cluster is None:
            slug = _cluster_name(group)
            cluster = Cluster(name=slug, slug=slug, kind=ClusterKind.GANETI)
            cluster.description = _("The cluster of the group %(group)s (%(course)s).") % {
                "group": group.name,
                "course": group.course.title,
            }
        if cluster.rapi_host != rapi_host:
            cluster.seen_fingerprint = ""
        cluster.rapi_host = rapi_host
        cluster.rapi_port = rapi_port
        cluster.rapi_user = rapi_user
        if rapi_password:
            cluster.rapi_password = rapi_password
        cluster.certificate_trust = CertificateTrust.PINNED
        if fingerprint:
            cluster.pinned_fingerprint = fingerprint
            cluster.seen_fingerprint = ""
        cluster.save()
        if group.cluster_id != cluster.pk:
            group.cluster = cluster
            group.save(update_fields=["cluster"])
        sync_cluster_access(group)
    return cluster


def trust_seen_certificate(group, fingerprint):
    cluster = group.cluster
    if cluster is None or not cluster.seen_fingerprint or cluster.seen_fingerprint != fingerprint:
        raise Refused(_("The certificate changed meanwhile; run the checks again."))
    Cluster.objects.filter(pk=cluster.pk).update(
        pinned_fingerprint=fingerprint, seen_fingerprint=""
    )


# --- check runs


def start_check_run(group, user):
    """Queue a check run, unless one is already queued or running."""
    with transaction.atomic():
        StudentGroup.objects.select_for_update().get(pk=group.pk)
        pending = group.check_runs.filter(
            status__in=[CheckRunStatus.QUEUED, CheckRunStatus.RUNNING]
        )
        # A run that outlived its job's timeout was lost with its worker: end it.
        stale = timezone.now() - timedelta(seconds=JOB_TIMEOUT * 2)
        pending.filter(created_at__lt=stale).update(
            status=CheckRunStatus.FAILED, finished_at=timezone.now(), error="lost by its worker"
        )
        if pending.exists():
            raise Refused(_("The checks are already running; wait for them to end."))
        run = CheckRun.objects.create(group=group, requested_by=user)
        enqueue_check_run(run)
    return run
