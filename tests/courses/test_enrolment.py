"""Enrolment by hand and by CSV: all rows, or none with the bad rows listed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from courses.models import Course

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_course(teacher):
    course = Course.objects.create(title="Redes", slug="redes")
    course.teachers.add(teacher)
    return course


def test_a_csv_of_user_names_and_emails_enrols_them(login, teacher, empty_course, students):
    csv = "username\nana\nbia@example.edu\n\nCAIO\n"
    upload = SimpleUploadedFile("turma.csv", csv.encode(), content_type="text/csv")
    response = login(teacher).post(
        reverse("courses:students", args=[empty_course.slug]), {"file": upload}
    )
    assert response.status_code == 302
    assert sorted(s.username for s in empty_course.students.all()) == ["ana", "bia", "caio"]


def test_a_csv_with_unknown_rows_imports_nothing_and_lists_them(
    login, teacher, empty_course, students
):
    csv = "ana\nzeca\nbia\nninguem@example.edu\n"
    upload = SimpleUploadedFile("turma.csv", csv.encode(), content_type="text/csv")
    response = login(teacher).post(
        reverse("courses:students", args=[empty_course.slug]), {"file": upload}
    )
    assert response.status_code == 200
    assert empty_course.students.count() == 0
    assert response.context["problems"] == [
        (2, "zeca", "no single student account has this user name or e-mail"),
        (4, "ninguem@example.edu", "no single student account has this user name or e-mail"),
    ]
    page = response.content.decode()
    assert "Nothing was imported" in page and "zeca" in page


def test_an_email_shared_by_two_users_is_a_bad_row(
    login, teacher, empty_course, students, django_user_model
):
    django_user_model.objects.create_user("ana2", "ana@example.edu")
    response = login(teacher).post(
        reverse("courses:students", args=[empty_course.slug]), {"names": "ana@example.edu\nbia"}
    )
    assert response.context["problems"] == [
        (1, "ana@example.edu", "no single student account has this user name or e-mail")
    ]
    assert empty_course.students.count() == 0


def test_only_teachers_of_the_course_enrol(login, empty_course, students, outsider):
    empty_course.students.add(students[0])
    url = reverse("courses:students", args=[empty_course.slug])
    assert login(students[0]).post(url, {"names": "bia"}).status_code == 403
    assert login(outsider).post(url, {"names": "bia"}).status_code == 404
    assert empty_course.students.count() == 1


def test_a_teacher_creates_a_course_and_teaches_it(login, teacher):
    response = login(teacher).post(
        reverse("courses:create"), {"title": "Virtualização", "slug": "virt2"}
    )
    course = Course.objects.get(slug="virt2")
    assert response.url == course.get_absolute_url()
    assert list(course.teachers.all()) == [teacher]


def test_a_user_without_the_teach_permission_cannot_create_courses(login, outsider):
    assert login(outsider).get(reverse("courses:create")).status_code == 403


def test_the_ready_made_rubric_covers_the_ganeti_project(login, teacher, empty_course):
    response = login(teacher).post(
        reverse("courses:assignment_create", args=[empty_course.slug]),
        {
            "title": "Projeto",
            "description": "Cluster Ganeti",
            "deadline": "2030-07-03T23:59",
            "ganeti_rubric": "on",
        },
    )
    assert response.status_code == 302
    items = list(empty_course.assignments.get().rubric_items.values_list("title", flat=True))
    assert items == [
        "Dependencies",
        "Installation",
        "Configuration of each node",
        "Ganeti commands that built the cluster",
        "VMs with and without replication",
        "Live migration",
        "Working deployment",
    ]
