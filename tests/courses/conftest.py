"""Personas of the coursework tests: a teacher, a course with its assignment, two groups."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from courses import grading, services
from courses.models import Assignment, Course
from tests.personas import PASSWORD


def _user(django_user_model, name):
    return django_user_model.objects.create_user(name, f"{name}@example.edu", PASSWORD)


@pytest.fixture
def teacher(django_user_model):
    user = _user(django_user_model, "prof")
    user.user_permissions.add(
        Permission.objects.get(codename="teach", content_type__app_label="courses")
    )
    return django_user_model.objects.get(pk=user.pk)  # a fresh permission cache


@pytest.fixture
def students(django_user_model):
    """Six students: ana, bia, caio, davi, eva, fabio."""
    return [_user(django_user_model, n) for n in ("ana", "bia", "caio", "davi", "eva", "fabio")]


@pytest.fixture
def course(teacher, students):
    course = Course.objects.create(title="Virtualização 2026", slug="virt")
    course.teachers.add(teacher)
    course.students.add(*students)
    return course


@pytest.fixture
def assignment(course):
    assignment = Assignment.objects.create(
        course=course,
        title="Cluster Ganeti",
        description="Implantar e documentar um cluster Ganeti.",
        deadline=timezone.now() + timedelta(days=7),
    )
    grading.add_ganeti_rubric(assignment)
    return assignment


@pytest.fixture
def group_a(course, students):
    group = services.create_group(course, "Alfa", students[0])
    services.add_member(group, students[1])
    return group


@pytest.fixture
def group_b(course, students):
    group = services.create_group(course, "Beta", students[2])
    return group


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture(autouse=True)
def fast_passwords(request, settings):
    """Cheap hashing, except where a live server (another process) checks the passwords."""
    if "live_site" not in request.fixturenames:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
