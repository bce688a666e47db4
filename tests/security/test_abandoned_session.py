"""A session left open (a lab machine, a stolen cookie) must not stay usable for Django's two
weeks: it ends SESSION_IDLE_TIMEOUT after its last request, and behind HTTPS its cookies travel
only over HTTPS and are never readable by scripts."""

import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from ganetiweb.sessions import SAVE_AGAIN_AFTER, SAVED_AT
from tests import new_process
from tests.asynchronous import run
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


def _session_end(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_lasts_the_idle_timeout_from_login_not_two_weeks(client, outsider):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})

    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_IDLE_TIMEOUT == 8 * 3600
    assert _session_end(client) <= timezone.now() + timedelta(hours=8)


def _last_saved(client, seconds_ago, ends_in):
    """Make the client's session look saved `seconds_ago`, ending `ends_in` from now."""
    session = client.session
    session[SAVED_AT] = int(time.time()) - seconds_ago
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + ends_in
    )


def test_a_request_a_minute_after_the_last_save_pushes_the_end_back(client, outsider):
    client.force_login(outsider)
    _last_saved(client, seconds_ago=SAVE_AGAIN_AFTER, ends_in=timedelta(minutes=5))

    response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_IDLE_TIMEOUT
    assert _session_end(client) > timezone.now() + timedelta(hours=7, minutes=59)


@pytest.mark.django_db(transaction=True)
def test_under_the_asgi_server_too_a_request_pushes_the_end_back(async_client, outsider):
    async def scenario():
        await async_client.aforce_login(outsider)
        await sync_to_async(_last_saved)(async_client, SAVE_AGAIN_AFTER, timedelta(minutes=5))
        response = await async_client.get(reverse("dashboard"))
        return response, await sync_to_async(_session_end)(async_client)

    response, end = run(scenario)

    assert response.status_code == 200
    assert end > timezone.now() + timedelta(hours=7, minutes=59)


def test_requests_within_the_minute_write_nothing(client, outsider):
    client.force_login(outsider)
    _last_saved(client, seconds_ago=10, ends_in=timedelta(minutes=5))
    end = _session_end(client)

    response = client.get(reverse("dashboard"))

    assert response.status_code == 200 and "sessionid" not in response.cookies
    assert _session_end(client) == end


def test_a_session_from_before_the_timeout_existed_gets_it_at_its_next_request(client, outsider):
    client.force_login(outsider)
    session = client.session
    del session[SAVED_AT]
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(days=13)
    )

    client.get(reverse("dashboard"))

    assert _session_end(client) <= timezone.now() + timedelta(hours=8)


def test_a_session_idle_for_longer_than_the_timeout_is_over(client, outsider):
    client.force_login(outsider)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(reverse("dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _settings_with(tmp_path, **variables):
    """The cookie settings as a new process loads them with these variables."""
    names = [
        "SESSION_COOKIE_AGE",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY",
        "LANGUAGE_COOKIE_HTTPONLY",
    ]
    return new_process.settings_of(
        tmp_path, names, SECRET_KEY="s" * 50, CREDENTIALS_KEYS="c" * 50, **variables
    )


def test_behind_https_every_cookie_is_secure_and_hidden_from_scripts(tmp_path):
    values = _settings_with(tmp_path, HTTPS="true", SESSION_IDLE_TIMEOUT="900")

    assert values == {
        "SESSION_COOKIE_AGE": 900,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "LANGUAGE_COOKIE_HTTPONLY": True,
    }


def test_over_plain_http_the_cookies_cannot_be_secure(tmp_path):
    values = _settings_with(tmp_path, HTTPS="false")

    assert not values["SESSION_COOKIE_SECURE"] and not values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_AGE"] == 8 * 3600
