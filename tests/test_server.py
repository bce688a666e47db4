"""`manage.py serve`, the web process of the demo and of production, started for real."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testbed._process import free_port, stop_process, tail, wait_until

REPO = Path(__file__).resolve().parent.parent


def _ask(port, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := connection.recv(65536)):
            answer += chunk
        return answer


def _listening(port) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def served(tmp_path, redis_server):
    """`manage.py serve` on a free port, with its own (empty) data directory."""
    port = free_port()
    environment = {
        **os.environ,
        "GANETIWEB_DATA_DIR": str(tmp_path),
        "REDIS_URL": redis_server.url,  # console tickets
        "LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [sys.executable, str(REPO / "manage.py"), "serve", "--port", str(port)],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    if not wait_until(lambda: _listening(port), process, timeout=30):
        stop_process(process, signal.SIGKILL)
        pytest.fail(f"manage.py serve (uvicorn) did not listen on {port}:\n{tail(log)}")
    yield process, port
    stop_process(process, signal.SIGKILL)


def test_serve_answers_pages_and_refuses_a_console_without_ticket(served):
    process, port = served
    page = _ask(port, b"GET /accounts/login/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert page.startswith(b"HTTP/1.1 200"), page[:200]

    handshake = (
        f"GET /ws/console/1/?ticket=nothing HTTP/1.1\r\nHost: localhost:{port}\r\n"
        f"Origin: http://localhost:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    refused = _ask(port, handshake)
    # The consumer closed before accepting: the server answers the upgrade with 403.
    assert refused.startswith(b"HTTP/1.1 403"), refused[:200]


def test_serve_stops_on_sigterm(served):
    process, port = served
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down, then ends by the signal it got, so a supervisor sees why.
    assert process.wait(timeout=20) == -signal.SIGTERM
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
