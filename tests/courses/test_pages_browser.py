"""The teacher's grading sheet and a student's wiki page in Chromium, in Brazilian Portuguese.

The pt-BR strings asserted here ("Planilha de notas", "Seções exigidas") come from the
module's translations; the rest of the assertions are on the pages' structure.
"""

import pytest
from django.urls import reverse
from django.utils import translation

from courses import grading, wiki
from courses.models import Assignment
from tests.fixtures_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIKI = """# Dependências

Em cada nó: `apt install ganeti drbd-utils`.

# Instalação

1. Instalar os pacotes.
2. Configurar `/etc/hosts`.

# Comandos do Ganeti

```
gnt-cluster init --enabled-hypervisors=kvm cluster1.exemplo
gnt-node add no2.exemplo
```

| comando | o que faz |
|---|---|
| `gnt-cluster init` | cria o cluster no nó mestre |
| `gnt-node add` | adiciona um nó |

<script>alert("x")</script>
"""


@pytest.fixture
def graded(course, assignment, group_a, group_b, students):
    with translation.override("pt-br"):
        Assignment.objects.filter(pk=assignment.pk).update(title="Projeto: cluster Ganeti")
        assignment.rubric_items.all().delete()
        grading.add_ganeti_rubric(assignment)
    items = list(assignment.rubric_items.all())
    grading.save_grades(
        assignment,
        {
            (group_a, items[0]): ("9", "Faltou a versão do DRBD."),
            (group_a, items[1]): ("10", ""),
            (group_b, items[0]): ("6,5", "Incompleto."),
        },
    )
    wiki.save_page(group_a, students[0], "Documentação do cluster", WIKI)
    return assignment


def test_the_teacher_sees_the_grading_sheet_in_portuguese(
    live_site, page, screenshot, teacher, course, graded
):
    log_in(page, live_site, "prof", language="pt-br")
    page.goto(f"{live_site.url}{reverse('courses:grades', args=[course.slug, graded.pk])}")
    assert page.locator("html").get_attribute("lang") == "pt-br"
    sheet = page.locator("#grading-sheet")
    assert sheet.is_visible()
    assert sheet.locator("tbody tr").count() == 2
    assert sheet.locator("thead th").count() == 2 + graded.rubric_items.count()
    assert page.locator("tbody tr", has_text="Alfa").locator("td[data-total]").inner_text() == "19"
    assert page.input_value("textarea[name^='comment-'] >> nth=0") == "Faltou a versão do DRBD."
    screenshot("courses-grading-sheet-pt-br")
    heading = page.get_by_role("heading", name="Planilha de notas")

    page.click("tbody tr:has-text('Alfa') a.btn")
    page.wait_for_url("**/grades/*/")
    assert page.locator(".wiki-content h1", has_text="Dependências").is_visible()
    assert page.locator("#wiki-checklist").is_visible()
    screenshot("courses-grade-group-pt-br")
    assert heading.count() == 0  # this page's heading is the group's
    page.go_back()
    assert heading.is_visible()


def test_a_student_sees_the_wiki_page_and_its_checklist_in_portuguese(
    live_site, page, screenshot, students, group_a, graded
):
    log_in(page, live_site, "ana", language="pt-br")
    wiki_page = group_a.wiki_pages.get()
    page.goto(f"{live_site.url}{wiki_page.get_absolute_url()}")
    assert page.locator("html").get_attribute("lang") == "pt-br"
    article = page.locator("article.wiki-content")
    assert article.locator("h1").count() == 3
    assert article.locator("table td").first.inner_text() == "gnt-cluster init"
    assert article.locator("script").count() == 0
    checklist = page.locator("#wiki-checklist")
    assert checklist.locator("li[data-covered=yes]").count() == 3
    assert checklist.locator("li[data-covered=no]").count() == 3
    screenshot("courses-wiki-page-pt-br")
    assert checklist.get_by_text("Seções exigidas").is_visible()


def test_a_student_runs_the_checks_and_watches_the_evidence_arrive(
    live_site, page, screenshot, students, group_a, graded, ganeti_cluster, worker
):
    from courses import services

    services.register_cluster(
        group_a,
        ganeti_cluster.rapi_host,
        ganeti_cluster.rapi_port,
        ganeti_cluster.rapi_user,
        ganeti_cluster.rapi_password,
        ganeti_cluster.cert_sha256,
    )
    log_in(page, live_site, "bia", language="pt-br")
    page.goto(f"{live_site.url}{group_a.get_absolute_url()}")
    page.click("main form[action$='/checks/'] button")
    page.wait_for_url("**/checks/*/")
    assert page.locator("#check-run .badge").get_attribute("class").endswith("text-bg-secondary")
    assert worker.run() == 0
    # No reload: htmx polls the run until it ends.
    page.wait_for_selector("#check-run .badge.text-bg-success", timeout=15000)
    results = page.locator("#check-run li[data-check]")
    assert results.count() == 7
    assert page.locator("li[data-check=reachable]").get_attribute("data-passed") == "yes"
    assert page.locator("li[data-check=nodes]").get_attribute("data-passed") == "no"
    page.goto(f"{live_site.url}{group_a.get_absolute_url()}")
    assert page.locator("#check-run li[data-check]").count() == 7
    screenshot("courses-group-evidence-pt-br")
    assert page.get_by_text("Pelo menos dois nós").is_visible()
