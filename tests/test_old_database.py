"""A demo database from before the re-cut of the packages is set aside, not half-migrated."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _manage(data_dir, *args):
    env = {**os.environ, "GANETIWEB_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _old_database(path):
    """The migration history an old-layout database has (made by the code before the re-cut)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE django_migrations (id integer primary key, app, name, applied)")
        db.executemany(
            "INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, '2026-01-01')",
            [("ganetiweb", "0001_initial"), ("vms", "0001_initial"), ("vms", "0002_jobs")],
        )


def test_migrate_refuses_an_old_layout_database_and_says_what_to_do(tmp_path):
    _old_database(tmp_path / "db.sqlite3")
    result = _manage(tmp_path, "migrate", "--noinput")
    assert result.returncode != 0
    assert "ganetiweb.E002" in result.stderr and "set_aside_old_database" in result.stderr


def test_the_old_database_is_moved_aside_and_a_new_one_migrates(tmp_path):
    _old_database(tmp_path / "db.sqlite3")
    result = _manage(tmp_path, "set_aside_old_database")
    assert result.returncode == 0, result.stderr
    assert "moved it to" in result.stdout
    assert [p.name for p in tmp_path.glob("db.sqlite3.before-recut-*")]
    assert _manage(tmp_path, "migrate", "--noinput", "-v0").returncode == 0
    # A second run finds the new database right and leaves it alone.
    assert _manage(tmp_path, "set_aside_old_database").stdout == ""
