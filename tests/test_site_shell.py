"""Login, logout, password change, the language switch, the admin and the ASGI router."""

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.core.checks import run_checks
from django.urls import reverse

from ganetiweb.asgi import application
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_logs_in_and_sees_the_dashboard(client, outsider):
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert b"Your virtualization pool" in response.content


def test_a_wrong_password_is_refused_with_a_message(client, outsider):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logout_is_a_post_and_ends_the_session(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_user_changes_their_password(client, outsider):
    client.force_login(outsider)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer passphrase",
            "new_password2": "a much longer passphrase",
        },
    )
    assert response.status_code == 302
    outsider.refresh_from_db()
    assert outsider.check_password("a much longer passphrase")


def test_the_password_form_shows_errors_beside_the_field(client, outsider):
    client.force_login(outsider)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    assert b"is-invalid" in response.content
    assert b"Your old password was entered incorrectly" in response.content


def test_the_language_switch_turns_the_site_into_brazilian_portuguese(client, outsider):
    client.force_login(outsider)
    client.post(reverse("set_language"), {"language": "pt-br", "next": "/"})
    response = client.get(reverse("dashboard"))
    assert response.headers["Content-Language"] == "pt-br"
    assert b"Painel" in response.content
    assert "Seu pool de virtualização".encode() in response.content


def test_the_navigation_hides_the_admin_from_outsiders(client, outsider, superuser):
    client.force_login(outsider)
    assert b'href="/admin/"' not in client.get(reverse("dashboard")).content
    client.force_login(superuser)
    assert b'href="/admin/"' in client.get(reverse("dashboard")).content


def test_the_admin_opens_for_a_superuser(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_missing_front_end_package_is_a_system_check_error(settings, tmp_path):
    settings.STATICFILES_DIRS = [("vendor/missing", tmp_path / "absent")]
    errors = [e for e in run_checks() if e.id == "ganetiweb.E001"]
    assert len(errors) == 1
    assert "scripts/install" in errors[0].hint


@pytest.mark.asyncio
async def test_the_asgi_application_serves_http():
    communicator = HttpCommunicator(
        application, "GET", "/accounts/login/", headers=[(b"host", b"127.0.0.1")]
    )
    response = await communicator.get_response()
    assert response["status"] == 200


@pytest.mark.asyncio
async def test_the_asgi_application_refuses_websockets_from_another_origin():
    communicator = WebsocketCommunicator(
        application, "/ws/anything/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert connected is False
