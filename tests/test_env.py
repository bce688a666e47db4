"""The strict readers of environment variables behind the settings."""

import subprocess
import sys
from pathlib import Path

import pytest

from ganetiweb import env
from ganetiweb.env import SettingError

REPO = Path(__file__).resolve().parent.parent


def test_envbool_accepts_true_and_false(monkeypatch):
    monkeypatch.setenv("FLAG", "True")
    assert env.envbool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "false")
    assert env.envbool("FLAG", True) is False


def test_envbool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)
    assert env.envbool("FLAG", True) is True


def test_envbool_refuses_anything_else_naming_the_variable(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    with pytest.raises(SettingError, match="FLAG='yes' is not valid: use true or false"):
        env.envbool("FLAG", False)


def test_envint_refuses_words_and_small_numbers(monkeypatch):
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(SettingError, match="COUNT='ten' is not a whole number"):
        env.envint("COUNT", 1)
    monkeypatch.setenv("COUNT", "2")
    with pytest.raises(SettingError, match="at least 5"):
        env.envint("COUNT", 10, minimum=5)


def test_envlist_splits_on_commas_and_refuses_empty_items(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example")
    assert env.envlist("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("HOSTS", "a.example,,b")
    with pytest.raises(SettingError, match="empty item"):
        env.envlist("HOSTS", [])


def test_a_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("PASSWORD", raising=False)
    monkeypatch.setenv("PASSWORD_FILE", str(secret))
    assert env.envstr("PASSWORD", "") == "s3cret"


def test_a_secret_file_that_cannot_be_read_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(SettingError, match="PASSWORD_FILE=.*absent cannot be read"):
        env.envstr("PASSWORD", "")


def test_database_url_defaults_to_sqlite(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env.database_from_url("DATABASE_URL", "sqlite:////srv/x/db.sqlite3")
    assert config == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/x/db.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }


def test_database_url_reads_a_postgres_address(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://gw:p%40ss@db.example:5433/ganetiweb")
    config = env.database_from_url("DATABASE_URL", "sqlite:////srv/db")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("gw", "p@ss")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", "5433", "ganetiweb")


def test_database_url_refuses_an_unknown_scheme(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://x/y")
    with pytest.raises(SettingError, match="DATABASE_URL='mysql://x/y' is not understood"):
        env.database_from_url("DATABASE_URL", "sqlite:////srv/db")


def test_redis_url_must_be_a_redis_address(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "http://localhost:6379")
    with pytest.raises(SettingError, match="REDIS_URL=.* is not a Redis URL"):
        env.redis_url("REDIS_URL", "redis://127.0.0.1:6379/0")


def test_secret_key_is_generated_once_into_a_private_file(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "state" / "secret_key"
    first = env.secret_key("SECRET_KEY", key_file)
    assert len(first) >= 50
    assert env.secret_key("SECRET_KEY", key_file) == first
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_short_secret_key_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(SettingError, match="SECRET_KEY is too short"):
        env.secret_key("SECRET_KEY", tmp_path / "unused")


def test_a_wrong_setting_stops_start_up_with_a_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "maybe", "GANETIWEB_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "ganetiweb cannot start: DEBUG='maybe' is not valid: use true or false." in result.stderr


def test_blocked_networks_are_checked_at_start_up(monkeypatch):
    monkeypatch.setenv("CLUSTER_BLOCKED_NETWORKS", "10.0.0.0/8, fd00::/8")
    assert env.envnetworks("CLUSTER_BLOCKED_NETWORKS") == ["10.0.0.0/8", "fd00::/8"]
    monkeypatch.setenv("CLUSTER_BLOCKED_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(SettingError, match="'intranet' is not a network"):
        env.envnetworks("CLUSTER_BLOCKED_NETWORKS")
