"""The rules of courses and groups: enrolment, membership, the group's cluster, check runs.

Views, the admin and jobs call these; each raises Refused with a sentence for the user when a
rule says no.
"""

import csv
import io
import ipaddress
import re
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
from courses.access import teaches
from courses.choices import CheckRunStatus
from courses.jobs import check_deadline, enqueue_check_run
from courses.models import CheckRun, GroupMembership, MembershipChange, StudentGroup
from courses.models.course import MAX_GROUP_SIZE

# One label of a host name: ASCII letters, digits and inner hyphens (an international name is
# typed in its xn-- form).
HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
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

    A teacher learns from it which rows cannot be enrolled, and no more about the accounts of
    the site: a row that names no account, several (an e-mail two accounts share) or one that
    is not for students (an inactive account, a superuser) gets the same reason, and such
    accounts are never matched.
    """
    User = get_user_model()
    candidates = User.objects.filter(is_active=True, is_superuser=False)
    users, problems, seen = [], [], set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        value = (row[0] if row else "").strip()
        if not value or value.startswith("#"):
            continue
        if not users and not problems and value.lower() in HEADER_WORDS:
            continue
        if "@" in value:
            matches = list(candidates.filter(email__iexact=value)[:2])
        else:
            matches = list(candidates.filter(username__iexact=value)[:2])
        if len(matches) != 1:
            problems.append(
                (number, value, _("no single student account has this user name or e-mail"))
            )
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


def unenrol(course, student, by=None):
    with transaction.atomic():
        for membership in GroupMembership.objects.filter(course=course, student=student):
            remove_member(membership.group, student, by=by)
        course.students.remove(student)


# --- groups


def membership_change_allowed(course, by):
    """Whether `by` may change the course's groups now; True when it is after the groups froze
    (a teacher's change, recorded as such). Refused for anyone else once frozen.

    From the first deadline of the course on, students can no longer join or leave: the work
    was done by the group as it was, and grades credit who was in it. Teachers still can (a
    student who dropped out, a mistake), and every change records who made it.
    """
    frozen_by = course.groups_frozen_by()
    if frozen_by is None:
        return False
    if by is not None and teaches(by, course):
        return True
    raise Refused(
        _(
            "The deadline of %(assignment)s has passed: the groups are frozen. Ask a teacher "
            "if a group must change."
        )
        % {"assignment": frozen_by.title}
    )


def _record(group, student, joined, by, after_deadline):
    MembershipChange.objects.create(
        group=group, student=student, joined=joined, by=by, after_deadline=after_deadline
    )


def create_group(course, name, founder=None):
    """A new group; a student who creates it is its first member."""
    name = name.strip()
    if not name:
        raise Refused(_("Give the group a name."))
    if founder is not None:
        membership_change_allowed(course, founder)
    with transaction.atomic():
        if course.groups.filter(name__iexact=name).exists():
            raise Refused(_("The course already has a group called %(name)s.") % {"name": name})
        group = StudentGroup.objects.create(course=course, name=name)
        if founder is not None:
            add_member(group, founder, by=founder)
    return group


def join_by_code(course, student, code):
    membership_change_allowed(course, student)
    group = (
        StudentGroup.objects.filter(course=course, invitation_code=code.strip().upper())
        .select_related("course")
        .first()
    )
    if group is None:
        raise Refused(
            _("No group of this course has the invitation code %(code)s.") % {"code": code}
        )
    add_member(group, student, by=student)
    return group


def add_member(group, student, by=None):
    """Put a student of the course in the group: at most four, one group per course. `by` is
    who does it (None: not a teacher); after the groups froze, only a teacher may."""
    with transaction.atomic():
        # Lock the group: two students joining at once cannot both be the fourth.
        group = StudentGroup.objects.select_for_update().select_related("course").get(pk=group.pk)
        after_deadline = membership_change_allowed(group.course, by)
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
        _record(group, student, True, by, after_deadline)
        sync_cluster_access(group)
    return group


def remove_member(group, student, by=None):
    """Take a student out of the group; `by` as for add_member."""
    with transaction.atomic():
        group = StudentGroup.objects.select_for_update().select_related("course").get(pk=group.pk)
        after_deadline = membership_change_allowed(group.course, by)
        removed, _kinds = GroupMembership.objects.filter(group=group, student=student).delete()
        if removed:
            _record(group, student, False, by, after_deadline)
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


def clean_rapi_host(value):
    """The host name or IP address of a group's RAPI, as typed; Refused for anything else.

    Students type it, and the worker connects to it: no URL (scheme, path, user@, port), no
    spaces, nothing longer than a host name can be. A name whose last label is all digits is
    no host name but a number that the resolver would read as an address ("127.1",
    "2130706433"): refused too; an IP address is given in its usual form.
    """
    host = (value or "").strip()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if (
        len(host) > 253
        or not all(HOST_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise Refused(
            _(
                "Give the host name or the IP address of the cluster's master only, such as "
                "master.example.org or 192.0.2.10: no https://, no path and no port."
            )
        )
    return host


def clean_rapi_port(value):
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise Refused(_("The RAPI port is a number from 1 to 65535."))
    return value


def register_cluster(group, rapi_host, rapi_port, rapi_user, rapi_password, fingerprint=""):
    """Create or update the group's Ganeti cluster; keep the password when none is given."""
    rapi_host = clean_rapi_host(rapi_host)
    rapi_port = clean_rapi_port(rapi_port)
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
        # A run that outlived its job's timeout (the deadline) was lost with its worker: end
        # it. Twice the deadline, so that a run still waiting behind another is not ended.
        stale = timezone.now() - timedelta(seconds=check_deadline() * 2)
        pending.filter(created_at__lt=stale).update(
            status=CheckRunStatus.FAILED, finished_at=timezone.now(), error="lost by its worker"
        )
        if pending.exists():
            raise Refused(_("The checks are already running; wait for them to end."))
        run = CheckRun.objects.create(group=group, requested_by=user)
        enqueue_check_run(run)
    return run
