"""Fixtures shared by every test: the personas, and the real services as plugins."""

import pytest
from django.conf import settings

pytest_plugins = [
    "tests.fixtures_services",
    "tests.fixtures_ganeti",
    "tests.fixtures_browser",
]

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """Keep the SQLite test database in a file, so that a live server process can share it."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_db = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_db)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def plain_user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)
