"""The assignment's buttons send the teacher back to the page they were on, and never to
another site (an open redirect a link could abuse)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
def test_a_next_address_of_another_site_goes_to_the_assignment_instead(
    login, teacher, course, assignment, target
):
    response = login(teacher).post(
        reverse("courses:assignment_flags", args=[course.slug, assignment.pk]),
        {"grades_released": "1", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == assignment.get_absolute_url()
    assignment.refresh_from_db()
    assert assignment.grades_released


def test_a_next_address_of_this_site_is_followed(login, teacher, course, assignment):
    sheet = reverse("courses:grades", args=[course.slug, assignment.pk])
    response = login(teacher).post(
        reverse("courses:assignment_flags", args=[course.slug, assignment.pk]),
        {"published_wikis": "1", "next": f"{sheet}?sort=name"},
    )
    assert response["Location"] == f"{sheet}?sort=name"
