"""Small helpers shared by the service starters: free ports, waiting, and clean stops.

The services run as child processes of the test session or the demo, so that nothing outlives
them: a child is stopped by `stop()`, and on Linux also gets SIGTERM if its parent dies first.
"""

import contextlib
import ctypes
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Ask the kernel for a free loopback port.

    Another process may take it before the service binds it; the starters retry on that.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """Return a preexec_fn that makes the child get `sig` when its parent dies.

    Without it a crashed or killed test run would leave its Redis or PostgreSQL running.
    """

    def preexec() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig))

    return preexec


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen, timeout: float) -> bool:
    """Poll `ready()` until it is true; False if `proc` exits or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if ready():
            return True
        time.sleep(0.05)
    return False


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Send `sig`, give the process `timeout` seconds to shut down, then kill it."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, to put in an error message."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
