"""Concurrent creations never exceed a quota: on PostgreSQL, with real row locks."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def postgres_database(postgres_server):
    """A new, empty database in the test PostgreSQL; its URL."""
    name = f"gwtest_race_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _run(module, database_url, redis_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the application's settings, not the tests'
    return subprocess.run(
        [sys.executable, *args] if module is None else [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_twenty_concurrent_creations_start_exactly_the_five_the_quota_admits(
    postgres_database, redis_server
):
    migrate = _run(None, postgres_database, redis_server.url, "manage.py", "migrate", "-v0")
    assert migrate.returncode == 0, migrate.stderr

    race = _run("tests.vms.quotas.quota_race", postgres_database, redis_server.url)

    assert race.returncode == 0, race.stderr
    result = json.loads(race.stdout.strip().splitlines()[-1])
    assert result["vendor"] == "postgresql"
    assert result["errors"] == []
    assert result["outcomes"] == ["Job"] * 5 + ["VMRequest"] * 15
    assert (result["jobs"], result["requests"]) == (5, 15)
    assert result["usage"] == result["limit"]  # full, and never beyond
    assert len(result["reasons"]) == 1 and result["reasons"][0].startswith("Beyond the quota")
