"""The group wiki: sanitized Markdown, revisions, diffs, restore, images, the freeze."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from courses import wiki
from courses.models import WikiPage, WikiRevision

pytestmark = pytest.mark.django_db

HOSTILE = """# Instalação

<script>alert('x')</script>
<img src="x" onerror="alert(1)">
<a href="javascript:alert(2)">clique</a>
[link](javascript:alert(3)) and [ok](https://ganeti.org) and [rel](../outra/)
<p onclick="alert(4)" style="color:red">texto</p>
<iframe src="https://evil.example"></iframe>
![externa](https://evil.example/t.png)
"""


@pytest.fixture
def page(group_a, students):
    return wiki.save_page(group_a, students[0], "Instalação", "# Instalação\n\napt install ganeti")


def _url(name, group, *args):
    return reverse(f"courses:{name}", args=[group.course.slug, group.pk, *args])


def test_a_page_with_script_event_handlers_and_javascript_links_is_rendered_harmless(
    login, group_a, students
):
    page = wiki.save_page(group_a, students[0], "Hostil", HOSTILE)
    response = login(students[1]).get(page.get_absolute_url())
    assert response.status_code == 200
    article = response.content.decode().split('<article class="wiki-content">')[1]
    article = article.split("</article>")[0].lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "style=",
        "evil.example",
    ):
        assert bad not in article, bad
    assert '<h1 id="instalacao">instalação</h1>' in article
    assert 'href="https://ganeti.org"' in article and 'href="../outra/"' in article
    assert 'rel="noopener noreferrer nofollow"' in article


def test_markdown_keeps_headings_code_lists_and_tables(page):
    html = wiki.render(
        "## Comandos\n\n- um\n- dois\n\n```\ngnt-cluster init\n```\n\n|a|b|\n|-|-|\n|1|2|", page
    )
    assert "<h2" in html and "<li>um</li>" in html and "<pre><code>gnt-cluster init" in html
    assert "<table>" in html and "<td>1</td>" in html


def test_each_save_is_a_revision_with_its_author_and_time(login, group_a, students, page):
    client = login(students[1])
    client.post(
        _url("wiki_edit", group_a, page.slug),
        {"title": "Instalação", "text": "novo texto", "summary": "reescrita"},
    )
    revisions = list(page.revisions.all())
    assert [r.author for r in revisions] == [students[1], students[0]]
    assert revisions[0].summary == "reescrita" and revisions[0].created_at is not None
    history = client.get(_url("wiki_history", group_a, page.slug)).content.decode()
    assert "bia" in history and "ana" in history


def test_the_diff_between_two_revisions_shows_lines_removed_and_added_escaped(
    login, group_a, students, page
):
    wiki.save_page(
        group_a,
        students[1],
        "Instalação",
        "# Instalação\n\napt install ganeti drbd-utils <b>",
        page=page,
    )
    old, new = page.revisions.order_by("pk")
    response = login(students[0]).get(
        _url("wiki_diff", group_a, page.slug), {"from": old.pk, "to": new.pk}
    )
    rows = response.context["rows"]
    assert ("replace", 3, "apt install ganeti", 3, "apt install ganeti drbd-utils <b>") in rows
    assert "drbd-utils &lt;b&gt;" in response.content.decode()


def test_an_old_revision_is_restored_as_a_new_revision(login, group_a, students, page):
    first = page.current()
    wiki.save_page(group_a, students[1], "Instalação", "estragado", page=page)
    login(students[0]).post(_url("wiki_restore", group_a, page.slug, first.pk))
    assert page.current().text == first.text
    assert page.revisions.count() == 3


def test_after_the_deadline_the_wiki_is_frozen_for_students_until_the_teacher_reopens_it(
    login, teacher, group_a, students, assignment, page
):
    assignment.deadline = timezone.now() - timedelta(minutes=1)
    assignment.save()
    client = login(students[0])
    response = client.post(
        _url("wiki_edit", group_a, page.slug),
        {"title": "Instalação", "text": "tarde demais"},
        follow=True,
    )
    assert "the wiki is frozen" in response.content.decode()
    assert page.current().text != "tarde demais"
    assert not client.get(page.get_absolute_url()).context["can_edit"]

    login(teacher).post(_url("group_reopen", group_a), {"reopened": "1"})
    client = login(students[0])
    client.post(_url("wiki_edit", group_a, page.slug), {"title": "Instalação", "text": "reaberto"})
    assert page.current().text == "reaberto"


def test_the_teacher_reads_but_does_not_edit(login, teacher, group_a, page):
    client = login(teacher)
    assert client.get(page.get_absolute_url()).status_code == 200
    assert client.get(_url("wiki_edit", group_a, page.slug)).status_code == 403


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_image_is_checked_by_its_bytes_and_served_only_to_readers(
    login, group_a, group_b, students, page
):
    client = login(students[0])
    url = _url("wiki_images", group_a, page.slug)
    client.post(url, {"image": SimpleUploadedFile("foto.png", PNG, content_type="image/png")})
    fake = SimpleUploadedFile("x.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = client.post(url, {"image": fake}, follow=True)
    assert "Only PNG, JPEG, GIF and WebP" in response.content.decode()
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (2 * 1024 * 1024), content_type="image/png")
    response = client.post(url, {"image": big}, follow=True)
    assert "too large" in response.content.decode()
    (image,) = page.images.all()
    served = client.get(image.get_absolute_url())
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG
    assert login(students[2]).get(image.get_absolute_url()).status_code == 404
    # The page may show its own image, and no other.
    html = wiki.render(
        f"![a]({image.get_absolute_url()}) ![b](/courses/x/groups/9/wiki/p/images/1/)", page
    )
    assert f'src="{image.get_absolute_url()}"' in html and "/groups/9/" not in html


def test_the_checklist_marks_the_rubric_sections_the_headings_cover(group_a, students, assignment):
    wiki.save_page(
        group_a,
        students[0],
        "Documentação",
        "# Dependências\n\ntexto\n\nConfiguração dos nós\n---\n\n"
        "```\n# Migração (num bloco de código)\n```\n",
    )
    covered = {item.title: ok for item, ok, _h in wiki.checklist(group_a, assignment)}
    assert covered == {
        "Dependencies": True,
        "Installation": False,
        "Configuration of each node": True,
        "Ganeti commands that built the cluster": False,
        "VMs with and without replication": False,
        "Live migration": False,
    }


def test_a_page_cannot_take_a_reserved_address(group_a, students):
    with pytest.raises(wiki.Refused):
        wiki.save_page(group_a, students[0], "Nova", "x", slug="new")
    assert not WikiPage.objects.exists() and not WikiRevision.objects.exists()
