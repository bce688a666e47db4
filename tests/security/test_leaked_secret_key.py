"""A leaked SECRET_KEY must not decrypt the cluster passwords, and rotating it must not lose
them: they are encrypted with CREDENTIALS_KEYS (newest first, any decrypts), a key of their own
that `manage.py rotate_credentials_key` moves every stored secret to."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clusters.crypto import UnreadableSecret
from clusters.models import Cluster
from ganetiweb import env
from tests import new_process
from tests.clusters.factories import make_cluster

KEY_A = "a" * 40
KEY_B = "b" * 40


def _stored(name="alpha"):
    """The cluster's passwords as the application reads them back from the database."""
    cluster = Cluster.objects.get(slug=name)
    return cluster.rapi_password, cluster.vnc_password


@pytest.mark.django_db
def test_a_secret_saved_under_the_old_key_is_read_while_both_are_listed(settings):
    settings.CREDENTIALS_KEYS = [KEY_A]
    make_cluster("alpha", rapi_password="rapi-secret", vnc_password="vnc-secret")

    settings.CREDENTIALS_KEYS = [KEY_B, KEY_A]

    assert _stored() == ("rapi-secret", "vnc-secret")


@pytest.mark.django_db
def test_rotation_moves_every_secret_to_the_newest_key_so_the_old_one_can_go(settings):
    settings.CREDENTIALS_KEYS = [KEY_A]
    make_cluster("alpha", rapi_password="rapi-secret", vnc_password="vnc-secret")
    make_cluster("beta", rapi_password="other-secret")
    settings.CREDENTIALS_KEYS = [KEY_B, KEY_A]
    out = StringIO()

    call_command("rotate_credentials_key", stdout=out)

    assert "clusters.Cluster.rapi_password: 2 re-encrypted, 0 already" in out.getvalue()
    assert "clusters.Cluster.vnc_password: 1 re-encrypted, 0 already" in out.getvalue()
    settings.CREDENTIALS_KEYS = [KEY_B]
    assert _stored() == ("rapi-secret", "vnc-secret")
    assert _stored("beta")[0] == "other-secret"
    settings.CREDENTIALS_KEYS = [KEY_A]
    assert isinstance(_stored()[0], UnreadableSecret)


@pytest.mark.django_db
def test_a_second_rotation_finds_everything_already_under_the_newest_key(settings):
    settings.CREDENTIALS_KEYS = [KEY_B, KEY_A]
    make_cluster("alpha", rapi_password="rapi-secret")
    out = StringIO()

    call_command("rotate_credentials_key", stdout=out)

    assert "clusters.Cluster.rapi_password: 0 re-encrypted, 1 already" in out.getvalue()


@pytest.mark.django_db
def test_rotation_names_the_secrets_no_listed_key_reads_and_keeps_them(settings):
    settings.CREDENTIALS_KEYS = [KEY_A]
    lost = make_cluster("alpha", rapi_password="rapi-secret")
    settings.CREDENTIALS_KEYS = [KEY_B]

    with pytest.raises(CommandError, match=f"clusters.Cluster.rapi_password pk={lost.pk}"):
        call_command("rotate_credentials_key", stdout=StringIO())

    settings.CREDENTIALS_KEYS = [KEY_A]
    assert _stored()[0] == "rapi-secret"


@pytest.mark.django_db
def test_secrets_saved_under_the_old_default_need_the_secret_key_listed(settings):
    """Before CREDENTIALS_KEYS, the secrets were encrypted with the SECRET_KEY itself."""
    settings.CREDENTIALS_KEYS = [settings.SECRET_KEY]
    make_cluster("alpha", rapi_password="rapi-secret")

    settings.CREDENTIALS_KEYS = [KEY_B]
    assert isinstance(_stored()[0], UnreadableSecret)
    settings.CREDENTIALS_KEYS = [KEY_B, settings.SECRET_KEY]
    assert _stored()[0] == "rapi-secret"


def test_the_demo_key_is_generated_once_into_a_private_file_apart_from_the_secret_key(
    monkeypatch, tmp_path
):
    monkeypatch.delenv("CREDENTIALS_KEYS", raising=False)
    key_file = tmp_path / "state" / "credentials_key"

    first = env.credentials_keys("CREDENTIALS_KEYS", key_file, required=False)

    assert len(first) == 1 and len(first[0]) >= 50
    assert env.credentials_keys("CREDENTIALS_KEYS", key_file, required=False) == first
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first[0] != env.secret_key("SECRET_KEY", tmp_path / "state" / "secret_key")


def test_several_keys_are_read_newest_first_and_the_newest_must_be_long(monkeypatch, tmp_path):
    monkeypatch.setenv("CREDENTIALS_KEYS", f"{KEY_B}, old-short-key")
    assert env.credentials_keys("CREDENTIALS_KEYS", tmp_path / "unused", True) == [
        KEY_B,
        "old-short-key",
    ]
    monkeypatch.setenv("CREDENTIALS_KEYS", f"short,{KEY_A}")
    with pytest.raises(env.SettingError, match="first key of CREDENTIALS_KEYS .* too short"):
        env.credentials_keys("CREDENTIALS_KEYS", tmp_path / "unused", True)


def _start(tmp_path, **variables):
    """Load the settings in a new process as `manage.py` would; return it, finished."""
    return new_process.start(tmp_path, ["CREDENTIALS_KEYS"], SECRET_KEY=KEY_A, **variables)


def test_behind_https_the_settings_refuse_to_load_without_a_credentials_key(tmp_path):
    result = _start(tmp_path, HTTPS="true")

    assert result.returncode == 1
    assert "ganetiweb cannot start: CREDENTIALS_KEYS is required when HTTPS=true" in (result.stderr)
    assert not (tmp_path / "credentials_key").exists()


def test_behind_https_the_listed_keys_are_used(tmp_path):
    result = _start(tmp_path, HTTPS="true", CREDENTIALS_KEYS=f"{KEY_B},{KEY_A}")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"CREDENTIALS_KEYS": [KEY_B, KEY_A]}


def test_the_former_single_key_variable_is_refused_with_its_new_name(tmp_path):
    result = _start(tmp_path, CREDENTIALS_KEY=KEY_B)

    assert result.returncode == 1
    assert "CREDENTIALS_KEY is now called CREDENTIALS_KEYS" in result.stderr
