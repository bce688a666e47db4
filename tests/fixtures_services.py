"""pytest fixtures that give tests real services: Redis, PostgreSQL and libvirtd with QEMU.

A service that cannot be started fails the test with the reason and the fix; it never skips,
because a skipped service test would hide a broken machine. tests/conftest.py loads this module
as a plugin, so tests simply ask for the fixtures.

Test guests are named `gwtest-...`; each test removes its own, and the first use of libvirt in a
session removes any left behind by an earlier run that crashed. A guest records the pid of the
test run that made it, so that two test runs at once on one host leave each other's guests alone.
"""

import os
import re
import secrets
from collections.abc import Callable, Iterator
from typing import TypeVar

import libvirt
import pytest

from testbed.libvirt import define_tiny_vm, ensure_libvirtd, remove_vm, remove_vms
from testbed.postgres import PostgresServer, start_postgres
from testbed.redis import RedisServer, start_redis

T = TypeVar("T")
TEST_VM_PREFIX = "gwtest-"
OWNER = "ganetiweb test guest of pid {pid}"
OWNER_PID = re.compile(r"ganetiweb test guest of pid (\d+)")


def _start_or_fail(service: str, start: Callable[..., T], *args) -> T:
    """Run `start(*args)`, or fail the test with the service's name, the reason and the fix."""
    try:
        return start(*args)
    except (RuntimeError, OSError, libvirt.libvirtError) as exc:
        reason = str(exc).removeprefix(f"{service}: ")
        failure = f"{service} could not be started: {reason}"
    pytest.fail(failure, pytrace=False)  # outside `except`, so no chained traceback


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis on a free loopback port for the whole session; `.url` to connect."""
    server = _start_or_fail("Redis", start_redis, tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for the whole session; `.url` to connect."""
    server = _start_or_fail("PostgreSQL", start_postgres, tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def libvirt_uri() -> str:
    """The URI of a libvirtd that answers, after removing guests left by a crashed run.

    libvirtd is left running at the end: starting it again costs seconds.
    """
    uri = _start_or_fail("libvirtd", ensure_libvirtd)
    conn = _start_or_fail("libvirtd", libvirt.open, uri)
    try:
        remove_leftover_vms(conn)
    finally:
        conn.close()
    return uri


def remove_leftover_vms(conn: libvirt.virConnect) -> list[str]:
    """Remove `gwtest-` guests whose test run is gone (or that do not say which run made them)."""
    removed = []
    for domain in conn.listAllDomains(0):
        if domain.name().startswith(TEST_VM_PREFIX) and not _owner_alive(domain):
            remove_vm(domain)
            removed.append(domain.name())
    return removed


def _owner_alive(domain: libvirt.virDomain) -> bool:
    """Whether the test run named in the guest's description still runs."""
    try:
        description = domain.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None)
    except libvirt.libvirtError:  # no description at all
        return False
    match = OWNER_PID.fullmatch(description)
    if match is None:
        return False
    try:
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


@pytest.fixture
def vm_prefix() -> str:
    """A name prefix that belongs to this test alone, like `gwtest-1a2b3c4d-`."""
    return f"{TEST_VM_PREFIX}{secrets.token_hex(4)}-"


@pytest.fixture
def libvirt_conn(libvirt_uri: str, vm_prefix: str) -> Iterator[libvirt.virConnect]:
    """A connection to libvirtd; the guests named with `vm_prefix` are removed afterwards."""
    conn = _start_or_fail("libvirtd", libvirt.open, libvirt_uri)
    yield conn
    try:
        remove_vms(conn, vm_prefix)
    finally:
        conn.close()


@pytest.fixture
def tiny_vm(libvirt_conn: libvirt.virConnect, vm_prefix: str) -> Iterator[libvirt.virDomain]:
    """A running tiny diskless guest named `gwtest-<hex>-<hex>`, removed after the test."""
    name = f"{vm_prefix}{secrets.token_hex(2)}"
    domain = define_tiny_vm(libvirt_conn, name, description=OWNER.format(pid=os.getpid()))
    yield domain
    remove_vms(libvirt_conn, name)
