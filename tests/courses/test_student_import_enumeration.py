"""The teacher's student import says which rows it cannot enrol, and no more about the site's
accounts: not whether an e-mail is shared by several accounts, nor whether an administrator's
account exists (it is never enrolled)."""

import pytest
from django.urls import reverse

from courses.models import Course

pytestmark = pytest.mark.django_db

REASON = "no single student account has this user name or e-mail"


@pytest.fixture
def empty_course(teacher):
    course = Course.objects.create(title="Redes", slug="redes")
    course.teachers.add(teacher)
    return course


def _import(client, course, names):
    return client.post(reverse("courses:students", args=[course.slug]), {"names": names})


def test_unknown_shared_inactive_and_administrator_accounts_get_the_same_reason(
    login, teacher, empty_course, students, superuser, django_user_model
):
    django_user_model.objects.create_user("ana2", "ana@example.edu")
    django_user_model.objects.create_user("ex", "ex@example.edu", is_active=False)
    response = _import(
        login(teacher),
        empty_course,
        f"ninguem\nana@example.edu\nex\n{superuser.username}\n{superuser.email}\nbia",
    )
    assert response.status_code == 200
    assert [reason for _line, _value, reason in response.context["problems"]] == [REASON] * 5
    assert empty_course.students.count() == 0


def test_an_administrator_is_never_enrolled_as_a_student(
    login, teacher, empty_course, students, superuser
):
    _import(login(teacher), empty_course, superuser.username)
    assert not empty_course.students.filter(pk=superuser.pk).exists()
