"""pytest plugin: second nodes for the tests that move VMs between hosts.

- ``libvirt_host2``: a second libvirtd in the network namespace gwt-libvirt2, reached over
  qemu+tcp://198.51.100.2/system (``scripts/libvirt-host2``);
- ``libvirt_conn2``: a connection to it; the guests named with ``vm_prefix`` are removed after
  the test, as ``libvirt_conn`` does on the machine's own libvirtd;
- ``ganeti_pair``: a two-node Ganeti cluster (``scripts/ganeti-testbed up --multi``), apart
  from the single-node cluster of ``ganeti_cluster``.

They are left up at the end of the session, as the single-node beds are: ``up`` on a running
bed returns at once. A bed that cannot start fails the test naming it; it never skips.
"""

from __future__ import annotations

from collections.abc import Iterator

import libvirt
import pytest

from testbed.libvirt import remove_vms
from testbed.multinode import GanetiPair, LibvirtHost2, start_ganeti_pair, start_libvirt_host2
from tests.fixtures_services import remove_leftover_vms


def _fail(service: str, exc: Exception):
    pytest.fail(f"{service} could not be started: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def libvirt_host2(libvirt_uri: str) -> LibvirtHost2:
    """The second libvirt host, after removing guests left there by a crashed run."""
    try:
        host = start_libvirt_host2()
        conn = libvirt.open(host.uri)
    except (RuntimeError, libvirt.libvirtError) as exc:
        _fail("The second libvirt host (scripts/libvirt-host2)", exc)
    try:
        remove_leftover_vms(conn)
    finally:
        conn.close()
    return host


@pytest.fixture
def libvirt_conn2(libvirt_host2: LibvirtHost2, vm_prefix: str) -> Iterator[libvirt.virConnect]:
    """A connection to the second host; the test's guests there are removed afterwards.

    A test that stopped the host starts it again first, so that the next test finds it up.
    """
    conn = libvirt.open(libvirt_host2.uri)
    yield conn
    try:
        conn.getHostname()
    except libvirt.libvirtError:
        libvirt_host2.start()
        conn = libvirt.open(libvirt_host2.uri)
    try:
        remove_vms(conn, vm_prefix)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def ganeti_pair() -> GanetiPair:
    """The running two-node Ganeti cluster; tests remove the instances they make."""
    try:
        return start_ganeti_pair()
    except RuntimeError as exc:
        _fail("The two-node Ganeti cluster (scripts/ganeti-testbed up --multi)", exc)
