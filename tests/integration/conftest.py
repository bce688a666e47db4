"""Fixtures of the lifecycle integration tests: the application, and Ganeti names to clean up."""

import secrets
from collections.abc import Callable, Iterator

import pytest

from testbed.ganeti import GanetiTestbed

from .application import App


@pytest.fixture
def app(client, superuser, worker, django_capture_on_commit_callbacks) -> App:
    return App(client, superuser, worker, django_capture_on_commit_callbacks)


@pytest.fixture
def instance_names(ganeti_cluster: GanetiTestbed) -> Iterator[Callable[[], str]]:
    """Gives Ganeti instance names `app-<hex>.gwtest.example`; those that exist at the end, even
    after a failure, are removed through RAPI."""
    names: list[str] = []

    def make() -> str:
        names.append(f"app-{secrets.token_hex(4)}.gwtest.example")
        return names[-1]

    yield make
    for name in names:
        ganeti_cluster.remove_instance(name)
