"""A private Redis for the tests and the demo: own port, own directory, nothing saved to disk."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

from testbed._process import die_with_parent, free_port, stop_process, tail, wait_until

INSTALL_HINT = "install it with: apt-get install redis-server"
START_TIMEOUT = 15
PORT_ATTEMPTS = 3


@dataclass
class RedisServer:
    """A running redis-server child process; `stop()` ends it."""

    port: int
    workdir: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop_process(self.process)


def start_redis(workdir: Path) -> RedisServer:
    """Start redis-server on a free loopback port and return once it answers PING.

    The port is picked before Redis binds it, so another process can steal it; then we retry.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(f"Redis: redis-server not found; {INSTALL_HINT}")
    workdir.mkdir(parents=True, exist_ok=True)
    for _ in range(PORT_ATTEMPTS):
        server = _launch(binary, workdir, free_port())
        if wait_until(lambda s=server: _answers_ping(s.url), server.process, START_TIMEOUT):
            return server
        server.stop()
        log = tail(workdir / "redis.log")
        if "Address already in use" not in log:
            break
    raise RuntimeError(f"Redis: redis-server did not answer PING; its log says:\n{log}")


def _launch(binary: str, workdir: Path, port: int) -> RedisServer:
    """Run redis-server in the foreground as our child, persistence off, logging to redis.log."""
    args = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--daemonize", "no",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
    ]  # fmt: skip
    with open(workdir / "redis.log", "ab") as log:
        process = subprocess.Popen(
            args,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    return RedisServer(port=port, workdir=workdir, process=process)


def _answers_ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
