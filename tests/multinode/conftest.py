"""The application as a superuser drives it, for the tests that move VMs between nodes."""

import pytest

from tests.integration.application import App


@pytest.fixture
def app(client, superuser, worker, django_capture_on_commit_callbacks) -> App:
    return App(client, superuser, worker, django_capture_on_commit_callbacks)
