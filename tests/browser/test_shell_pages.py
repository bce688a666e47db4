"""The login page and the empty dashboard, as a person sees them in Chromium, in both languages."""

import pytest

from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "login": "Log in to ganetiweb",
        "button": "Log in",
        "dashboard": "Your virtualization pool",
    },
    "pt-br": {
        "login": "Entrar no ganetiweb",
        "button": "Entrar",
        "dashboard": "Seu pool de virtualização",
    },
}


def _styled(page):
    """True when Bootstrap's stylesheet was served: the navbar is dark, not transparent."""
    color = page.eval_on_selector("nav.navbar", "el => getComputedStyle(el).backgroundColor")
    return color not in ("rgba(0, 0, 0, 0)", "transparent")


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_a_user_logs_in_and_sees_the_empty_dashboard(
    language, live_site, page, screenshot, outsider
):
    page.context.set_extra_http_headers({"Accept-Language": language})
    page.goto(f"{live_site.url}/")
    assert page.url.startswith(f"{live_site.url}/accounts/login/")
    assert page.get_by_role("heading", name=TEXTS[language]["login"]).is_visible()
    assert _styled(page)
    screenshot(f"login-{language}")

    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=TEXTS[language]["button"], exact=True).click()
    page.wait_for_url(f"{live_site.url}/")
    assert page.get_by_text(TEXTS[language]["dashboard"]).is_visible()
    assert page.locator("html").get_attribute("lang") == language
    screenshot(f"dashboard-{language}")


def test_the_language_switcher_changes_the_page_language(live_site, page, outsider):
    page.goto(f"{live_site.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "pt-br")
    assert page.get_by_role("heading", name=TEXTS["pt-br"]["login"]).is_visible()
