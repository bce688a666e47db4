"""The wiki's limits: what one student can make the site store, or one request compute."""

import difflib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from courses import services, wiki
from courses.models import WikiImage, WikiPage, WikiRevision

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _url(name, group, *args):
    return reverse(f"courses:{name}", args=[group.course.slug, group.pk, *args])


@pytest.fixture
def page(group_a, students):
    return wiki.save_page(group_a, students[0], "Instalação", "# Instalação\n\napt install ganeti")


@pytest.fixture
def no_line_diff(monkeypatch):
    """difflib.SequenceMatcher as the wiki calls it: recorded, and refused when called."""
    calls = []

    def refused(*args, **kwargs):
        calls.append(kwargs)
        raise AssertionError("the line by line diff ran")

    monkeypatch.setattr(wiki.difflib, "SequenceMatcher", refused)
    return calls


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 200_001, "The text is too long: 200001 characters, and a page holds at most 200000"),
        ("linha\n" * 5_001, "The text has too many lines: 5001, and a page holds at most 5000"),
    ],
)
def test_an_oversized_page_is_refused_with_the_message_and_the_text_kept(
    login, group_a, students, text, message
):
    response = login(students[0]).post(
        _url("wiki_create", group_a), {"title": "Enorme", "text": text, "summary": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["text"] == [f"{message}. Split it into several pages."]
    assert message in response.content.decode()
    assert response.context["form"]["text"].value() == text  # back in the text box
    assert not WikiPage.objects.exists() and not WikiRevision.objects.exists()


def test_an_oversized_edit_of_a_page_saves_no_revision(login, group_a, students, page):
    response = login(students[1]).post(
        _url("wiki_edit", group_a, page.slug), {"title": page.title, "text": "x" * 200_001}
    )
    assert response.status_code == 200 and response.context["form"].errors["text"]
    assert page.revisions.count() == 1


def test_the_service_refuses_an_oversized_text_too(group_a, students, page):
    with pytest.raises(services.Refused, match="too many lines"):
        wiki.save_page(group_a, students[0], page.title, "\n" * 6_000, page=page)
    assert page.revisions.count() == 1


def test_a_diff_of_two_large_revisions_says_so_without_comparing_them(
    login, group_a, students, page, no_line_diff
):
    # Within the page limits (5 000 lines), and different on every line: a line by line diff
    # of these compares 25 million pairs.
    old = wiki.save_page(
        group_a, students[0], page.title, "\n".join(f"a{i}" for i in range(5_000)), page=page
    ).current()
    new = wiki.save_page(
        group_a, students[1], page.title, "\n".join(f"b{i}" for i in range(5_000)), page=page
    ).current()
    response = login(students[0]).get(
        _url("wiki_diff", group_a, page.slug), {"from": old.pk, "to": new.pk}
    )
    assert response.status_code == 200
    assert "These revisions are too large to compare line by line." in response.content.decode()
    assert no_line_diff == []


def test_a_revision_older_than_the_limits_is_not_compared_line_by_line(
    login, group_a, students, page, no_line_diff
):
    # Saved before the limits existed: a million lines.
    huge = WikiRevision.objects.create(page=page, text="x\n" * 1_000_000, author=students[0])
    response = login(students[0]).get(
        _url("wiki_diff", group_a, page.slug), {"from": page.revisions.last().pk, "to": huge.pk}
    )
    assert "These revisions are too large to compare line by line." in response.content.decode()
    assert no_line_diff == []


def test_an_edit_in_a_long_page_compares_only_the_lines_around_it(group_a, students, page):
    lines = [f"linha {i}" for i in range(4_000)]
    before = "\n".join(lines)
    lines[2_000] = "linha alterada"
    rows = wiki.diff_rows(before, "\n".join(lines))
    changed = [row for row in rows if row[0] != "equal"]
    assert changed == [("replace", 2_001, "linha 2000", 2_001, "linha alterada")]
    assert len(rows) == 4_000


def _rows_compared_whole(old, new):
    """The diff as it was made before the bounds: the whole texts compared."""
    a, b = old.splitlines(), new.splitlines()
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            rows.append(
                (
                    tag,
                    i1 + k + 1 if k < len(left) else "",
                    left[k] if k < len(left) else "",
                    j1 + k + 1 if k < len(right) else "",
                    right[k] if k < len(right) else "",
                )
            )
    return rows


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\nd", "a\nB\nc\nd\ne"),
        ("", "um\ndois"),
        ("um\ndois", ""),
        ("igual\nigual", "igual\nigual"),
        ("# T\n\nx\n\ny\n", "# T\n\nx\n\nz\n\ny\n"),
        ("x\nx\nx", "x\nx"),
    ],
)
def test_the_diff_of_small_revisions_is_the_whole_comparison(old, new):
    assert wiki.diff_rows(old, new) == _rows_compared_whole(old, new)


def test_a_group_cannot_make_more_pages_than_the_limit(login, settings, group_a, students):
    settings.WIKI_MAX_PAGES = 2
    client = login(students[0])
    for title in ("Um", "Dois", "Três"):
        response = client.post(_url("wiki_create", group_a), {"title": title, "text": "x"})
    assert response.status_code == 200
    assert (
        "The wiki already has 2 pages, the most a group&#x27;s wiki may have"
        in response.content.decode()
    )
    assert response.context["form"]["text"].value() == "x"
    assert group_a.wiki_pages.count() == 2


def test_a_page_cannot_have_more_revisions_than_the_limit(login, settings, group_a, students, page):
    settings.WIKI_MAX_REVISIONS = 3
    client = login(students[0])
    for text in ("v2", "v3", "v4"):
        response = client.post(
            _url("wiki_edit", group_a, page.slug), {"title": page.title, "text": text}
        )
    assert "This page already has 3 saved revisions" in response.content.decode()
    assert page.revisions.count() == 3
    first = page.revisions.last()
    response = client.post(_url("wiki_restore", group_a, page.slug, first.pk), follow=True)
    assert "This page already has 3 saved revisions" in response.content.decode()
    assert page.revisions.count() == 3


def test_a_group_cannot_upload_more_images_than_the_limit(
    login, settings, group_a, students, page, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.WIKI_MAX_IMAGES = 1
    client = login(students[0])
    for name in ("um.png", "dois.png"):
        response = client.post(
            _url("wiki_images", group_a, page.slug),
            {"image": SimpleUploadedFile(name, PNG, content_type="image/png")},
            follow=True,
        )
    assert (
        "The wiki already has 1 image, the most a group&#x27;s wiki may have."
        in response.content.decode()
    )
    assert WikiImage.objects.filter(page__group=group_a).count() == 1
