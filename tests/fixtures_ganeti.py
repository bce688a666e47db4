"""pytest plugin: the real single-node Ganeti cluster of ``scripts/ganeti-testbed``.

tests/conftest.py loads this plugin, so tests simply ask for the fixture:

    def test_something(ganeti_cluster): ...

Needs root (network and mount namespaces) and the Debian packages listed in
scripts/ganeti-testbed. A cluster that cannot start fails the tests; it never skips them.
"""

from __future__ import annotations

import pytest

from testbed import ganeti

_PREFIX = "Ganeti test cluster could not be started: "


@pytest.fixture(scope="session")
def ganeti_cluster() -> ganeti.GanetiTestbed:
    """The running test cluster.

    It is left up when the session ends: building it takes about ten seconds, while ``up`` on
    a running cluster returns in a tenth of one, so the next run reuses it. Tests must remove
    what they create. ``scripts/ganeti-testbed down`` removes the cluster.
    """
    try:
        return ganeti.start()
    except RuntimeError as exc:
        pytest.fail(_PREFIX + str(exc).removeprefix(_PREFIX), pytrace=False)
