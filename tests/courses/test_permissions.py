"""Another group's wiki, cluster, evidence and grades are a 404; anonymous users log in."""

import pytest
from django.urls import reverse

from courses import services, wiki
from courses.models import CheckRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(group_a, group_b, students, assignment):
    page = wiki.save_page(group_a, students[0], "Instalação", "# Instalação")
    services.register_cluster(group_a, "192.0.2.99", 5080, "ro", "secret")
    group_a.refresh_from_db()
    run = CheckRun.objects.create(group=group_a, requested_by=students[0])
    return page, run


def _group_urls(course, group, page, run, assignment):
    base = [course.slug, group.pk]
    return [
        reverse("courses:group", args=base),
        reverse("courses:group_cluster", args=base),
        reverse("courses:check_run", args=[*base, run.pk]),
        reverse("courses:wiki", args=base),
        reverse("courses:wiki_page", args=[*base, page.slug]),
        reverse("courses:wiki_history", args=[*base, page.slug]),
    ]


def test_a_student_of_another_group_gets_404_on_the_wiki_cluster_and_evidence(
    login, course, group_a, students, setup, assignment
):
    page, run = setup
    client = login(students[2])  # in group Beta
    for url in _group_urls(course, group_a, page, run, assignment):
        assert client.get(url).status_code == 404, url
    assert client.get(group_a.cluster.get_absolute_url()).status_code == 404
    assert (
        client.post(reverse("courses:checks_run", args=[course.slug, group_a.pk])).status_code
        == 404
    )


def test_members_see_their_group_cluster_and_wiki(
    login, course, group_a, students, setup, assignment
):
    page, run = setup
    client = login(students[1])
    for url in _group_urls(course, group_a, page, run, assignment):
        assert client.get(url, follow=True).status_code == 200, url
    assert client.get(group_a.cluster.get_absolute_url()).status_code == 200


def test_the_teacher_sees_every_group_and_its_cluster(
    login, teacher, course, group_a, setup, assignment
):
    page, run = setup
    client = login(teacher)
    for url in _group_urls(course, group_a, page, run, assignment):
        assert client.get(url, follow=True).status_code == 200, url
    assert client.get(group_a.cluster.get_absolute_url()).status_code == 200


def test_a_grade_is_hidden_until_released_and_never_shown_to_another_group(
    login, teacher, course, group_a, students, assignment, setup
):
    item = assignment.rubric_items.first()
    from courses.grading import save_grades

    save_grades(assignment, {(group_a, item): ("7", "Faltou o apt-get")})
    url = reverse("courses:group", args=[course.slug, group_a.pk])
    assert "Faltou o apt-get" not in login(students[0]).get(url).content.decode()
    assignment.grades_released = True
    assignment.save()
    assert "Faltou o apt-get" in login(students[0]).get(url).content.decode()
    assert login(students[2]).get(url).status_code == 404
    for name in ("grades", "grades_csv"):
        response = login(students[0]).get(
            reverse(f"courses:{name}", args=[course.slug, assignment.pk])
        )
        assert response.status_code == 403
    grade_url = reverse("courses:grade_group", args=[course.slug, assignment.pk, group_a.pk])
    assert login(students[0]).get(grade_url).status_code == 403


def test_published_wikis_are_readable_by_the_class_after_the_deadline(
    login, course, group_a, students, setup, assignment
):
    from datetime import timedelta

    from django.utils import timezone

    page, run = setup
    assignment.published_wikis = True
    assignment.deadline = timezone.now() - timedelta(hours=1)
    assignment.save()
    client = login(students[2])
    assert client.get(page.get_absolute_url()).status_code == 200
    # The wiki only: not the group's page, its cluster or its evidence.
    assert client.get(reverse("courses:group", args=[course.slug, group_a.pk])).status_code == 404
    assert client.get(group_a.cluster.get_absolute_url()).status_code == 404
    assert (
        client.get(
            reverse("courses:wiki_edit", args=[course.slug, group_a.pk, page.slug])
        ).status_code
        == 404
    )


def test_a_user_outside_the_course_gets_404_and_anonymous_users_log_in(
    client, login, course, outsider
):
    url = reverse("courses:detail", args=[course.slug])
    assert client.get(url).status_code == 302
    assert login(outsider).get(url).status_code == 404
    assert login(outsider).get(reverse("courses:list")).status_code == 200


def test_leaving_a_group_takes_away_its_cluster(login, course, group_a, students, setup):
    cluster_url = group_a.cluster.get_absolute_url()
    assert login(students[1]).get(cluster_url).status_code == 200
    services.remove_member(group_a, students[1])
    assert login(students[1]).get(cluster_url).status_code == 404
