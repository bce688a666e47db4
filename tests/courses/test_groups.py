"""Groups: at most four students, one group per student and course, invitation codes."""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from courses import services
from courses.models import GroupMembership, StudentGroup

pytestmark = pytest.mark.django_db


def test_it_refuses_a_fifth_member(course, students):
    group = services.create_group(course, "Grande", students[0])
    for student in students[1:4]:
        services.add_member(group, student)
    with pytest.raises(services.Refused, match="at most 4 students"):
        services.add_member(group, students[4])
    assert group.memberships.count() == 4


def test_a_fifth_student_joining_by_code_sees_why(login, course, students):
    group = services.create_group(course, "Grande", students[0])
    for student in students[1:4]:
        services.add_member(group, student)
    client = login(students[4])
    response = client.post(
        reverse("courses:group_join", args=[course.slug]),
        {"code": group.invitation_code},
        follow=True,
    )
    assert "is full: a group has at most 4 students" in response.content.decode()
    assert not GroupMembership.objects.filter(student=students[4]).exists()


def test_it_refuses_a_second_group_in_the_same_course(course, students, group_a):
    other = services.create_group(course, "Gama")
    with pytest.raises(services.Refused, match="already in the group Alfa"):
        services.add_member(other, students[0])


def test_the_database_itself_refuses_a_second_group(course, students, group_a):
    other = StudentGroup.objects.create(course=course, name="Gama")
    with pytest.raises(IntegrityError):
        GroupMembership.objects.create(group=other, student=students[0], course=course)


def test_a_student_joins_with_the_invitation_code_in_any_case(login, course, students, group_a):
    client = login(students[3])
    response = client.post(
        reverse("courses:group_join", args=[course.slug]),
        {"code": f" {group_a.invitation_code.lower()} "},
    )
    assert response.status_code == 302 and response.url == group_a.get_absolute_url()
    assert group_a.members.filter(pk=students[3].pk).exists()


def test_a_wrong_invitation_code_joins_nothing(login, course, students, group_a):
    client = login(students[3])
    response = client.post(
        reverse("courses:group_join", args=[course.slug]), {"code": "NOPE1234"}, follow=True
    )
    assert "No group of this course has the invitation code NOPE1234" in response.content.decode()
    assert not GroupMembership.objects.filter(student=students[3]).exists()


def test_invitation_codes_are_unique_and_unambiguous(course):
    codes = {services.create_group(course, f"G{i}").invitation_code for i in range(20)}
    assert len(codes) == 20
    assert all(len(code) == 8 and not set(code) & set("01OIL") for code in codes)


def test_a_student_creates_a_group_and_is_its_first_member(login, course, students):
    client = login(students[5])
    response = client.post(reverse("courses:group_create", args=[course.slug]), {"name": "Delta"})
    group = StudentGroup.objects.get(name="Delta")
    assert response.url == group.get_absolute_url()
    assert list(group.members.all()) == [students[5]]


def test_a_student_not_enrolled_cannot_join(login, course, group_a, outsider):
    with pytest.raises(services.Refused, match="not enrolled"):
        services.add_member(group_a, outsider)
    # Outside the course, the course itself is a 404.
    client = login(outsider)
    url = reverse("courses:group_join", args=[course.slug])
    assert client.post(url, {"code": group_a.invitation_code}).status_code == 404


def test_the_teacher_assigns_and_removes_a_student(login, teacher, course, students, group_a):
    client = login(teacher)
    url = reverse("courses:group_members", args=[course.slug, group_a.pk])
    client.post(url, {"add": students[4].pk})
    assert group_a.members.filter(pk=students[4].pk).exists()
    client.post(url, {"remove": students[4].pk})
    assert not group_a.members.filter(pk=students[4].pk).exists()


def test_a_student_may_not_assign_members(login, course, students, group_a):
    client = login(students[0])
    url = reverse("courses:group_members", args=[course.slug, group_a.pk])
    assert client.post(url, {"add": students[4].pk}).status_code == 403
