"""Groups freeze at the deadline, and a grade credits who was in the group when it was given:
no student joins a graded group to take its grade, or leaves one to escape it."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import GroupMembership, MembershipChange, StudentGroup

pytestmark = pytest.mark.django_db

FROZEN = "The deadline of Cluster Ganeti has passed: the groups are frozen."


@pytest.fixture
def past_deadline(assignment, group_a):
    """The deadline passed once group Alfa (ana, bia) was formed."""
    assignment.deadline = timezone.now() - timedelta(hours=1)
    assignment.save(update_fields=["deadline"])
    return assignment


def _members(group):
    return sorted(
        GroupMembership.objects.filter(group=group).values_list("student__username", flat=True)
    )


def _grade(client, assignment, group, points):
    items = list(assignment.rubric_items.all())
    data = {}
    for item, value in zip(items, points, strict=False):
        data[f"points-{group.pk}-{item.pk}"] = value
        data[f"comment-{group.pk}-{item.pk}"] = ""
    url = reverse("courses:grades", args=[assignment.course.slug, assignment.pk])
    assert client.post(url, data).status_code == 302


def _csv(client, assignment):
    url = reverse("courses:grades_csv", args=[assignment.course.slug, assignment.pk])
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    return {(row[0], row[3]): (row[4], row[-1]) for row in rows[1:]}


def test_after_the_deadline_a_student_can_neither_leave_nor_join_nor_found_a_group(
    login, course, past_deadline, group_a, students
):
    bia, davi, eva = students[1], students[3], students[4]
    response = login(bia).post(
        reverse("courses:group_leave", args=[course.slug, group_a.pk]), follow=True
    )
    assert FROZEN in response.content.decode()
    response = login(davi).post(
        reverse("courses:group_join", args=[course.slug]),
        {"code": group_a.invitation_code},
        follow=True,
    )
    assert FROZEN in response.content.decode()
    response = login(eva).post(
        reverse("courses:group_create", args=[course.slug]), {"name": "Gama"}, follow=True
    )
    assert FROZEN in response.content.decode()
    assert _members(group_a) == ["ana", "bia"]
    assert not StudentGroup.objects.filter(name="Gama").exists()
    page = login(bia).get(group_a.get_absolute_url()).content.decode()
    assert 'id="groups-frozen"' in page and "Leave the group" not in page


def test_a_teacher_still_changes_a_group_after_the_deadline_and_it_is_recorded(
    login, teacher, course, past_deadline, group_a, students
):
    client = login(teacher)
    url = reverse("courses:group_members", args=[course.slug, group_a.pk])
    client.post(url, {"remove": students[1].pk})
    client.post(url, {"add": students[3].pk})
    assert _members(group_a) == ["ana", "davi"]
    changes = [
        (c.student.username, c.joined, c.by, c.after_deadline)
        for c in MembershipChange.objects.filter(group=group_a, after_deadline=True)
    ]
    assert changes == [("davi", True, teacher, True), ("bia", False, teacher, True)]
    page = client.get(group_a.get_absolute_url()).content.decode()
    assert "davi put in the group by prof" in page
    assert "bia taken out of the group by prof" in page
    assert "after the groups froze" in page


def test_the_csv_credits_who_was_in_the_group_when_it_was_graded(
    login, teacher, course, past_deadline, group_a, students
):
    client = login(teacher)
    _grade(client, past_deadline, group_a, ["10"])
    # Later, the teacher moves bia out and davi in (a mistake found after grading).
    url = reverse("courses:group_members", args=[course.slug, group_a.pk])
    client.post(url, {"remove": students[1].pk})
    client.post(url, {"add": students[3].pk})
    _grade(client, past_deadline, group_a, ["10"])  # saved again unchanged: still theirs
    assert _csv(client, past_deadline) == {
        ("ana", "Alfa"): ("10", "10"),
        ("bia", "Alfa"): ("10", "10"),
        ("davi", "Alfa"): ("", "0"),
    }


def test_a_student_who_joins_a_group_after_it_was_graded_is_not_credited(
    login, teacher, course, assignment, group_a, students
):
    client = login(teacher)
    _grade(client, assignment, group_a, ["10", "8"])  # graded early, before the deadline
    response = login(students[3]).post(
        reverse("courses:group_join", args=[course.slug]), {"code": group_a.invitation_code}
    )
    assert response.status_code == 302 and _members(group_a) == ["ana", "bia", "davi"]
    client = login(teacher)
    assert _csv(client, assignment) == {
        ("ana", "Alfa"): ("10", "18"),
        ("bia", "Alfa"): ("10", "18"),
        ("davi", "Alfa"): ("", "0"),
    }
    # Graded again, changed: the cell now credits the group as it is.
    _grade(client, assignment, group_a, ["9", "8"])
    credited = _csv(client, assignment)
    assert credited[("davi", "Alfa")] == ("9", "9")
    assert credited[("ana", "Alfa")] == ("9", "17")
