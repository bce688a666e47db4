"""The grading sheet: points and comments per group and rubric item, totals, CSV export."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from courses.models import Grade

pytestmark = pytest.mark.django_db


def _cells(group, items, points):
    data = {}
    for item, value in zip(items, points, strict=False):
        data[f"points-{group.pk}-{item.pk}"] = value
        data[f"comment-{group.pk}-{item.pk}"] = f"comentário {item.order}"
    return data


def test_the_teacher_fills_the_sheet_and_sees_the_totals(
    login, teacher, course, assignment, group_a, group_b
):
    items = list(assignment.rubric_items.all())
    client = login(teacher)
    url = reverse("courses:grades", args=[course.slug, assignment.pk])
    data = {**_cells(group_a, items, ["10", "8,5", "15"]), **_cells(group_b, items, ["5"])}
    assert client.post(url, data).status_code == 302
    response = client.get(url)
    totals = {group.name: total for group, _cells, total in response.context["rows"]}
    assert totals == {"Alfa": Decimal("33.5"), "Beta": Decimal("5")}
    assert Grade.objects.get(group=group_a, item=items[1]).comment == "comentário 1"


def test_points_above_the_maximum_save_nothing(login, teacher, course, assignment, group_a):
    items = list(assignment.rubric_items.all())
    url = reverse("courses:grades", args=[course.slug, assignment.pk])
    response = login(teacher).post(url, _cells(group_a, items, ["5", "99"]), follow=True)
    assert "Points for Installation go from 0 to 10." in response.content.decode()
    assert not Grade.objects.exists()


def test_the_group_page_beside_the_grades_shows_the_wiki_and_evidence(
    login, teacher, course, assignment, group_a, students
):
    from courses import wiki

    wiki.save_page(group_a, students[0], "Instalação", "# Instalação\n\napt install ganeti")
    url = reverse("courses:grade_group", args=[course.slug, assignment.pk, group_a.pk])
    client = login(teacher)
    page = client.get(url).content.decode()
    assert "apt install ganeti" in page and 'id="wiki-checklist"' in page
    items = list(assignment.rubric_items.all())
    client.post(url, _cells(group_a, items, ["9"]))
    assert Grade.objects.get(group=group_a, item=items[0]).points == Decimal("9")


def test_the_csv_has_one_row_per_student(login, teacher, course, assignment, group_a, group_b):
    items = list(assignment.rubric_items.all())
    client = login(teacher)
    client.post(
        reverse("courses:grades", args=[course.slug, assignment.pk]),
        _cells(group_a, items, ["10", "=1+1"]),
    )  # a formula is not a number: nothing saved
    client.post(
        reverse("courses:grades", args=[course.slug, assignment.pk]),
        _cells(group_a, items, ["10", "7"]),
    )
    response = client.get(reverse("courses:grades_csv", args=[course.slug, assignment.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["user name", "name", "e-mail", "group"] and header[-1] == "total"
    assert [(row[0], row[3], row[-1]) for row in body] == [
        ("ana", "Alfa", "17"),
        ("bia", "Alfa", "17"),
        ("caio", "Beta", "0"),
    ]
    assert body[0][4:6] == ["10", "comentário 0"]


def test_releasing_grades_shows_them_to_the_group(
    login, teacher, course, assignment, group_a, students
):
    items = list(assignment.rubric_items.all())
    login(teacher).post(
        reverse("courses:grades", args=[course.slug, assignment.pk]), _cells(group_a, items, ["10"])
    )
    login(teacher).post(
        reverse("courses:assignment_flags", args=[course.slug, assignment.pk]),
        {"grades_released": "1"},
    )
    page = login(students[1]).get(group_a.get_absolute_url()).content.decode()
    assert "comentário 0" in page and f'id="grades-{assignment.pk}"' in page
