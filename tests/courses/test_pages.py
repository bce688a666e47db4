"""Every coursework page opens for whoever may open it, and is a 404 or 403 for the others."""

import pytest
from django.urls import reverse

from courses import services, wiki
from courses.models import CheckRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(course, assignment, group_a, group_b, students):
    page = wiki.save_page(group_a, students[0], "Instalação", "# Instalação\n\nv1")
    wiki.save_page(group_a, students[1], "Instalação", "# Instalação\n\nv2", page=page)
    services.register_cluster(group_a, "192.0.2.99", 5080, "ro", "secret")
    run = CheckRun.objects.create(group=group_a, requested_by=students[0])
    old, new = page.revisions.order_by("pk")
    return {"page": page, "run": run, "old": old, "new": new}


def _pages(course, assignment, group, world):
    c, a, g, p = course.slug, assignment.pk, group.pk, world["page"].slug
    return {
        "teacher": [
            reverse("courses:edit", args=[c]),
            reverse("courses:students", args=[c]),
            reverse("courses:assignment_create", args=[c]),
            reverse("courses:assignment_edit", args=[c, a]),
            reverse("courses:grades", args=[c, a]),
            reverse("courses:grades_csv", args=[c, a]),
            reverse("courses:grade_group", args=[c, a, g]),
        ],
        "course": [
            reverse("courses:list"),
            reverse("courses:detail", args=[c]),
            reverse("courses:assignment", args=[c, a]),
        ],
        "group": [
            reverse("courses:group", args=[c, g]),
            reverse("courses:group_cluster", args=[c, g]),
            reverse("courses:check_run", args=[c, g, world["run"].pk]),
            reverse("courses:wiki_page", args=[c, g, p]),
            reverse("courses:wiki_history", args=[c, g, p]),
            reverse("courses:wiki_revision", args=[c, g, p, world["old"].pk]),
            reverse("courses:wiki_diff", args=[c, g, p])
            + f"?from={world['old'].pk}&to={world['new'].pk}",
        ],
        "member": [
            reverse("courses:wiki_create", args=[c, g]),
            reverse("courses:wiki_edit", args=[c, g, p]),
        ],
    }


def test_the_teacher_opens_every_page_but_the_wiki_editor(
    login, teacher, course, assignment, group_a, world
):
    pages = _pages(course, assignment, group_a, world)
    client = login(teacher)
    for url in pages["teacher"] + pages["course"] + pages["group"]:
        assert client.get(url).status_code == 200, url
    for url in pages["member"]:
        assert client.get(url).status_code == 403, url


def test_a_member_opens_the_group_pages_and_not_the_teachers(
    login, course, assignment, group_a, students, world
):
    pages = _pages(course, assignment, group_a, world)
    client = login(students[1])
    for url in pages["course"] + pages["group"] + pages["member"]:
        assert client.get(url).status_code == 200, url
    for url in pages["teacher"]:
        assert client.get(url).status_code == 403, url


def test_a_student_of_another_group_gets_404_on_the_group_pages(
    login, course, assignment, group_a, students, world
):
    pages = _pages(course, assignment, group_a, world)
    client = login(students[2])
    for url in pages["course"]:
        assert client.get(url).status_code == 200, url
    for url in pages["group"] + pages["member"]:
        assert client.get(url).status_code == 404, url


def test_a_user_outside_the_course_gets_404_everywhere_but_the_list(
    login, outsider, course, assignment, group_a, world
):
    pages = _pages(course, assignment, group_a, world)
    client = login(outsider)
    urls = pages["teacher"] + pages["course"][1:] + pages["group"] + pages["member"]
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_log_in(client, course, assignment, group_a, world):
    pages = _pages(course, assignment, group_a, world)
    for url in sum(pages.values(), []):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url, url


def test_a_superuser_opens_every_page(login, superuser, course, assignment, group_a, world):
    pages = _pages(course, assignment, group_a, world)
    client = login(superuser)
    for url in pages["teacher"] + pages["course"] + pages["group"]:
        assert client.get(url).status_code == 200, url
