"""Rubrics and grades: the ready-made Ganeti rubric, the sheet, the CSV export."""

import csv
import io
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.models import Grade, RubricItem
from courses.services import Refused

# (title, description, points, heading keywords). The keywords are matched without accents
# and case, in both languages, so either language's headings count.
GANETI_RUBRIC = [
    (
        gettext_lazy("Dependencies"),
        gettext_lazy("The packages and services each node needs, and why."),
        10,
        "dependenc, requisit, pacote, package",
    ),
    (
        gettext_lazy("Installation"),
        gettext_lazy("How Ganeti and its dependencies were installed on the nodes."),
        10,
        "instala, install",
    ),
    (
        gettext_lazy("Configuration of each node"),
        gettext_lazy("Network, storage (LVM, DRBD), host names and other settings of every node."),
        15,
        "configura, ajuste, setting",
    ),
    (
        gettext_lazy("Ganeti commands that built the cluster"),
        gettext_lazy("The Ganeti commands used to build the cluster and what each step does."),
        20,
        "comando, command, gnt-, criacao do cluster, cluster creation",
    ),
    (
        gettext_lazy("VMs with and without replication"),
        gettext_lazy("Creating virtual machines with DRBD replication and without it."),
        15,
        "replica, drbd",
    ),
    (
        gettext_lazy("Live migration"),
        gettext_lazy("Moving a running virtual machine to another node, and what happens."),
        10,
        "migra",
    ),
    (
        gettext_lazy("Working deployment"),
        gettext_lazy("The cluster works: see the evidence of the deployment checks."),
        20,
        "",
    ),
]


def add_ganeti_rubric(assignment):
    """Append the ready-made rubric, in the language active now (the teacher's)."""
    start = assignment.rubric_items.count()
    RubricItem.objects.bulk_create(
        RubricItem(
            assignment=assignment,
            title=str(title),
            description=str(description),
            max_points=points,
            required_heading=keywords,
            order=start + index,
        )
        for index, (title, description, points, keywords) in enumerate(GANETI_RUBRIC)
    )


def parse_points(value, item):
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        points = Decimal(value)
    except InvalidOperation:
        raise Refused(
            _("%(value)s is not a number of points (%(item)s).") % {"value": value, "item": item}
        ) from None
    if points < 0 or points > item.max_points:
        raise Refused(
            _("Points for %(item)s go from 0 to %(max)s.")
            % {"item": item.title, "max": _number(item.max_points)}
        )
    return points


def save_grades(assignment, cells):
    """cells: {(group, item): (points text, comment)}; all saved, or none when one is wrong.

    A cell given or changed now credits the group's members of now; a cell saved unchanged
    keeps the members it credited when it was graded."""
    parsed = {
        (group, item): (parse_points(points, item), comment.strip())
        for (group, item), (points, comment) in cells.items()
    }
    members = {}
    with transaction.atomic():
        for (group, item), (points, comment) in parsed.items():
            if item.assignment_id != assignment.pk or group.course_id != assignment.course_id:
                raise Refused(_("This cell is not part of the assignment."))
            grade, created = Grade.objects.get_or_create(
                group=group, item=item, defaults={"points": points, "comment": comment}
            )
            if not created and (grade.points, grade.comment) == (points, comment):
                continue
            if not created:
                grade.points, grade.comment = points, comment
                grade.save(update_fields=["points", "comment", "updated_at"])
            if group.pk not in members:
                members[group.pk] = list(group.memberships.values_list("student_id", flat=True))
            grade.members.set(members[group.pk])


def sheet(assignment, groups):
    """Rows of (group, [(item, grade or None)], total) for the grading sheet."""
    items = list(assignment.rubric_items.all())
    grades = {
        (grade.group_id, grade.item_id): grade
        for grade in Grade.objects.filter(item__assignment=assignment, group__in=groups)
    }
    rows = []
    for group in groups:
        cells = [(item, grades.get((group.pk, item.pk))) for item in items]
        total = sum(
            (g.points for _i, g in cells if g is not None and g.points is not None), Decimal(0)
        )
        rows.append((group, cells, total))
    return items, rows


def _number(value):
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def _text(value):
    """A text cell a spreadsheet will not run as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(assignment):
    """One row per student of every group: the points and comment per item, and the total.

    Each cell credits the students who were in the group when it was graded (Grade.members),
    whoever is in the group now: a student who joined later has that cell empty, one who left
    later still has it. Students of the group now that no cell credits have a row of empty
    cells, so that the teacher sees them."""
    groups = list(
        assignment.course.groups.prefetch_related("memberships__student").order_by("name")
    )
    items, rows = sheet(assignment, groups)
    credited = defaultdict(set)
    for grade_id, user_id in Grade.members.through.objects.filter(
        grade__item__assignment=assignment
    ).values_list("grade_id", "user_id"):
        credited[grade_id].add(user_id)
    people = get_user_model().objects.in_bulk(set().union(*credited.values()))
    out = io.StringIO()
    writer = csv.writer(out)
    header = [_("user name"), _("name"), _("e-mail"), _("group")]
    for item in items:
        header += [f"{item.title} ({_number(item.max_points)})", f"{item.title}: {_('comment')}"]
    header.append(_("total"))
    writer.writerow(header)
    for group, cells, _total in rows:
        students = {
            membership.student.pk: membership.student for membership in group.memberships.all()
        }
        for _item, grade in cells:
            for pk in credited[grade.pk] if grade is not None else ():
                if pk in people:
                    students.setdefault(pk, people[pk])
        for student in sorted(students.values(), key=lambda user: user.get_username()):
            row = [
                _text(student.get_username()),
                _text(student.get_full_name()),
                _text(student.email),
                _text(group.name),
            ]
            total = Decimal(0)
            for _item, grade in cells:
                if grade is None or student.pk not in credited[grade.pk]:
                    row += ["", ""]
                    continue
                points = "" if grade.points is None else _number(grade.points)
                total += grade.points or 0
                row += [points, _text(grade.comment)]
            row.append(_number(total))
            writer.writerow(row)
    return out.getvalue()
