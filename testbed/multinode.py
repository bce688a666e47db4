"""Second nodes on this machine, for moving VMs between hosts: libvirt and Ganeti.

``scripts/libvirt-host2`` runs a second libvirtd in the network namespace ``gwt-libvirt2``
(198.51.100.2, on the host bridge gwt-br1); ``scripts/ganeti-testbed up --multi`` builds a
two-node Ganeti cluster whose nodes live in ``gwt-ganeti2`` and ``gwt-ganeti3``. Both scripts
need root and are idempotent: ``up`` on a running bed returns at once.

    host2 = start_libvirt_host2()          # LibvirtHost2(uri="qemu+tcp://198.51.100.2/system")
    host2.stop()                           # its daemons and VMs stopped: a host that is down
    pair = start_ganeti_pair()             # a GanetiPair, a GanetiTestbed with other_node

Plain Python, no Django imports: the fixtures and the demo share it.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

from testbed.ganeti import GanetiTestbed

REPO_ROOT = Path(__file__).resolve().parent.parent
LIBVIRT_SCRIPT = REPO_ROOT / "scripts" / "libvirt-host2"
GANETI_SCRIPT = REPO_ROOT / "scripts" / "ganeti-testbed"
#: The libvirt host comes up in about 10 s, the Ganeti pair in about a minute.
START_TIMEOUT = 400


@dataclasses.dataclass
class LibvirtHost2:
    """The second libvirt host; the fields are the JSON printed by ``libvirt-host2 up``."""

    uri: str
    address: str
    hostname: str
    netns: str
    bridge_address: str
    state_dir: str

    def stop(self) -> None:
        """Stop its libvirtd and its VMs, leaving the namespace: the host is down."""
        _run(LIBVIRT_SCRIPT, "stop", what="the second libvirt host", timeout=120)

    def start(self) -> None:
        start_libvirt_host2()


@dataclasses.dataclass
class GanetiPair(GanetiTestbed):
    """The two-node Ganeti cluster: the master is ``master_node``, the other ``other_node``."""

    other_node: str = ""
    other_address: str = ""
    other_netns: str = ""

    def gnt(self, *args: str, timeout: float = 300) -> str:
        """Runs a command inside the master node; returns its stdout."""
        return _run(
            GANETI_SCRIPT, "exec", "--multi", *args, what="the Ganeti pair", timeout=timeout
        )

    def node_exec(self, node: str, *args: str, timeout: float = 60) -> str:
        """Runs a command inside `node` (``master_node`` or ``other_node``)."""
        return _run(
            GANETI_SCRIPT,
            "exec-node",
            node,
            *args,
            what=f"the Ganeti node {node}",
            timeout=timeout,
        )

    def stop(self) -> None:
        _run(GANETI_SCRIPT, "down", what="the Ganeti test clusters", timeout=300)


def start_libvirt_host2() -> LibvirtHost2:
    """Start the second libvirt host, or reuse it; RuntimeError says why it could not."""
    out = _run(LIBVIRT_SCRIPT, "up", what="the second libvirt host", timeout=START_TIMEOUT)
    return LibvirtHost2(**_last_json(out, LIBVIRT_SCRIPT))


def start_ganeti_pair() -> GanetiPair:
    """Build the two-node Ganeti cluster, or reuse it; RuntimeError says why it could not."""
    out = _run(GANETI_SCRIPT, "up", "--multi", what="the Ganeti pair", timeout=START_TIMEOUT)
    return GanetiPair(**_last_json(out, GANETI_SCRIPT))


def _last_json(out: str, script: Path) -> dict:
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise RuntimeError(f"unexpected output of {script.name}: {out!r}") from exc


def _run(script: Path, *args: str, what: str, timeout: float) -> str:
    try:
        result = subprocess.run(
            [str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what}: {script.name} {' '.join(args)} failed: {exc}") from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"{what}: {script} {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stderr.strip()}\n{result.stdout.strip()}"
        )
    return result.stdout
