"""Guessing a password through the login form: after LOGIN_FAILURE_LIMIT wrong passwords the
username is locked out from that address (django-axes) until the cool-off ends or an
administrator unlocks it."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests import new_process
from tests.asynchronous import run
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"


def _log_in(client, password, address=ATTACKER, **headers):
    return client.post(
        reverse("login"),
        {"username": "alice", "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def _guess_until_locked(client):
    for _attempt in range(settings.LOGIN_FAILURE_LIMIT):
        response = _log_in(client, "guess")
    return response


def test_guessing_locks_the_username_out_from_that_address_even_with_the_right_password(
    client, outsider
):
    for _attempt in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert _log_in(client, "guess").status_code == 200

    locked = _log_in(client, "guess")

    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert b"ask an administrator" in locked.content
    minutes = f"blocked for {settings.LOGIN_LOCKOUT_MINUTES} minutes"
    assert minutes in " ".join(locked.content.decode().split())
    right = _log_in(client, PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_speaks_the_visitors_language(client, outsider):
    _guess_until_locked(client)

    locked = _log_in(client, "guess", headers={"accept-language": "pt-BR"})

    assert locked.status_code == 429
    assert "Muitas tentativas de entrada erradas" in locked.content.decode()


def test_the_user_still_logs_in_from_their_own_address(client, outsider):
    _guess_until_locked(client)

    response = _log_in(client, PASSWORD, address=VICTIM)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(outsider.pk)


def test_the_lockout_ends_after_the_cool_off(client, outsider):
    _guess_until_locked(client)
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=1)
    )

    assert _log_in(client, PASSWORD).status_code == 302


def test_an_administrator_unlocks_with_axes_reset(client, outsider):
    _guess_until_locked(client)

    call_command("axes_reset", verbosity=0)

    assert _log_in(client, PASSWORD).status_code == 302


def test_an_administrator_unlocks_in_the_admin(client, client_for, outsider, superuser):
    _guess_until_locked(client)
    admin = client_for(superuser)
    attempts = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert attempts.status_code == 200 and ATTACKER in attempts.content.decode()
    attempt = AccessAttempt.objects.get(username="alice")

    admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert not AccessAttempt.objects.exists()
    assert _log_in(client, PASSWORD).status_code == 302


def test_a_right_password_before_the_limit_starts_the_count_again(client, outsider):
    for _attempt in range(settings.LOGIN_FAILURE_LIMIT - 1):
        _log_in(client, "guess")
    assert _log_in(client, PASSWORD).status_code == 302
    client.post(reverse("logout"))

    for _attempt in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert _log_in(client, "guess").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_asgi_application_serves_the_lockout_page_too(async_client, outsider):
    """Under uvicorn the middleware runs in its asynchronous form, which calls the page's hook
    with other arguments."""
    form = {"username": "alice", "password": "guess"}

    async def scenario():
        refused = [
            (await async_client.post(reverse("login"), form)).status_code
            for _attempt in range(settings.LOGIN_FAILURE_LIMIT - 1)
        ]
        return refused, await async_client.post(reverse("login"), form)

    refused, locked = run(scenario)

    assert refused == [200] * (settings.LOGIN_FAILURE_LIMIT - 1)
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content


def test_the_limit_and_the_lockout_come_from_the_environment(tmp_path):
    names = [
        "AXES_FAILURE_LIMIT",
        "AXES_COOLOFF_TIME",
        "AXES_LOCKOUT_PARAMETERS",
        "AUTHENTICATION_BACKENDS",
    ]
    values = new_process.settings_of(
        tmp_path, names, LOGIN_FAILURE_LIMIT="3", LOGIN_LOCKOUT_MINUTES="30"
    )

    limit, seconds, parameters, backends = (values[name] for name in names)
    assert (limit, seconds) == (3, 1800)
    assert parameters == [["username", "ip_address"]]
    assert backends[0] == "axes.backends.AxesStandaloneBackend"
    assert "guardian.backends.ObjectPermissionBackend" in backends
