"""A throwaway Django for benchmarks: a temporary data directory and a fresh, migrated database.

Settings are read from the environment when ``django.setup()`` imports them, so everything is
set before it; models can only be imported after it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def django_database(database_url: str = "", postgres: bool = False) -> Iterator[Path]:
    """Set Django up on a new database; yield a scratch directory; remove all it made.

    The database is a SQLite file in a temporary directory unless ``postgres`` asks for a
    throwaway PostgreSQL server (testbed/postgres.py) or ``database_url`` names one, which
    should be an empty database made for the purpose.
    """
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ganetiweb-bench-")))
        if postgres:
            from testbed.postgres import start_postgres

            server = start_postgres(workdir)
            stack.callback(server.stop)
            database_url = server.url
        os.environ["DJANGO_SETTINGS_MODULE"] = "ganetiweb.settings"
        os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'db.sqlite3'}"
        os.environ["GANETIWEB_DATA_DIR"] = str(workdir / "data")
        _setup()
        stack.callback(_close_connections)  # before the PostgreSQL server stops
        yield workdir


def database_description() -> str:
    """ "SQLite 3.40.1" or "PostgreSQL 15.8": what the figures were measured on."""
    from django.db import connection

    with connection.cursor():
        pass
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else None
    if version is None:
        number = connection.pg_version  # e.g. 150008
        version = f"{number // 10000}.{number % 10000}"
    return f"{connection.display_name} {version}"


def _setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()
