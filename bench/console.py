"""Benchmark the console proxy against a direct connection and against websockify.

One tiny QEMU guest of the local libvirtd (testbed/libvirt.py) serves VNC on 127.0.0.1. The
same client code (a plain RFB client, over TCP or over bench/_websocket.py) measures, for

(a) the baseline: TCP straight to QEMU's VNC port;
(b) ganetiweb: the real ASGI application (origin check, session, ticket, permission, the
    consumer of vms/consumers.py) served by `manage.py serve` (uvicorn with the settings of
    ganetiweb/server.py) in a child process, as in production;
(c) websockify (websockify==0.13.0 from PyPI, the proxy most noVNC consoles use), in a child
    process, pointed at the same port;
(d) a bare ASGI relay (bench/_bare_relay.py: no Channels, no checks) under the same server:
    the floor of any consumer served there, so that (b) against (d) is what our code costs;
(e) the application of (b) under Daphne instead (`daphne ganetiweb.asgi:application`, which
    also works): what the choice of server is worth;

* round trip of a small message: SetEncodings with QEMU's extended-key-event pseudo-encoding,
  which QEMU acknowledges at once with a 16-byte FramebufferUpdate (8 bytes out, 16 back);
  median and 99th percentile of ``--round-trips`` (2000);
* a screen-update stream: ``--frames`` (30) full-screen raw FramebufferUpdates of 32-bit pixels
  (640x480: 1 MB each), each requested when the last arrived; QEMU answers a request on its
  refresh timer (about 30-150 ms), so this rate is QEMU's, and the figure that tells the proxies
  apart is the CPU time the proxy's processes spend per MB relayed.

Each path is measured ``--repeat`` (2) times, interleaved, and the best figure kept. It prints
the five, (b) and (c) as ratios to (a), (b) against (c), (d) against (c) and (b), and (e)
against (b) and (c).

    .venv/bin/python bench/console.py [--round-trips 2000 --frames 30 --repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _django_env import django_database
from _websocket import WebsocketClient

from testbed.redis import start_redis

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
VM_PREFIX = "gwbench-console-"
EXTENDED_KEY_EVENT = -258  # QEMU's pseudo-encoding; QEMU acknowledges it at once
DIRECT = "(a) direct TCP"
OURS = "(b) ganetiweb (manage.py serve)"
WEBSOCKIFY = "(c) websockify"
BARE = "(d) bare ASGI relay (same server)"
UNDER_DAPHNE = "(e) ganetiweb under Daphne"
WIDTH = max(map(len, (DIRECT, OURS, WEBSOCKIFY, BARE, UNDER_DAPHNE)))


@dataclass
class Figures:
    median_us: float
    p99_us: float
    mb_per_s: float
    frames_per_s: float
    cpu_us_per_rtt: float | None  # the proxy's processes; None for direct TCP
    cpu_ms_per_mb: float | None


class TcpStream:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def readexactly(self, count: int) -> bytes:
        return await self.reader.readexactly(count)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


async def rfb_session(stream) -> tuple[int, int]:
    """Log in with security "None", ask for raw 32-bit pixels; return the screen's size."""
    version = await stream.readexactly(12)
    stream.send(b"RFB 003.008\n")
    (count,) = await stream.readexactly(1)
    if 1 not in await stream.readexactly(count):
        raise RuntimeError(f"the VNC server {version!r} wants a password")
    stream.send(b"\x01")
    if await stream.readexactly(4) != b"\0\0\0\0":
        raise RuntimeError("the VNC server refused security None")
    stream.send(b"\x01")  # ClientInit: shared
    width, height = struct.unpack("!HH", await stream.readexactly(4))
    name_length = struct.unpack("!I", (await stream.readexactly(20))[16:])[0]
    await stream.readexactly(name_length)
    # SetPixelFormat: 32 bpp, depth 24, little endian, true colour 255/255/255 at 16/8/0.
    stream.send(struct.pack("!BxxxBBBBHHHBBBxxx", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
    return width, height


async def round_trips(stream, count: int) -> list[float]:
    request = struct.pack("!BxHi", 2, 1, EXTENDED_KEY_EVENT)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        stream.send(request)
        answer = await stream.readexactly(16)
        times.append(time.perf_counter() - start)
        if answer[12:] != struct.pack("!i", EXTENDED_KEY_EVENT):
            raise RuntimeError(f"unexpected answer {answer.hex()}")
    return times


async def screen_stream(stream, width: int, height: int, frames: int) -> int:
    stream.send(struct.pack("!BxHi", 2, 1, 0))  # SetEncodings: raw only
    request = struct.pack("!BBHHHH", 3, 0, 0, 0, width, height)
    received = 0
    for _ in range(frames):
        stream.send(request)
        header = await stream.readexactly(4)
        if header[0] != 0:
            raise RuntimeError(f"expected a FramebufferUpdate, got message type {header[0]}")
        (rectangles,) = struct.unpack("!H", header[2:])
        received += 4
        for _ in range(rectangles):
            _x, _y, w, h, encoding = struct.unpack("!HHHHi", await stream.readexactly(12))
            received += 12
            if encoding == 0:
                await stream.readexactly(w * h * 4)
                received += w * h * 4
    return received


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process's threads and its living descendants' (schedstat: ns)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total / 1e9


async def measure(open_stream, proxy_pid, args) -> Figures:
    stream = await open_stream()
    try:
        width, height = await rfb_session(stream)
        await round_trips(stream, 50)  # warm-up
        cpu_before = process_tree_cpu(proxy_pid) if proxy_pid else 0.0
        times = sorted(await round_trips(stream, args.round_trips))
        rtt_cpu = process_tree_cpu(proxy_pid) - cpu_before if proxy_pid else None
        cpu_before = process_tree_cpu(proxy_pid) if proxy_pid else 0.0
        start = time.perf_counter()
        received = await screen_stream(stream, width, height, args.frames)
        elapsed = time.perf_counter() - start
        cpu = process_tree_cpu(proxy_pid) - cpu_before if proxy_pid else None
    finally:
        await stream.close()
    megabytes = received / 1e6
    return Figures(
        median_us=statistics.median(times) * 1e6,
        p99_us=times[int(len(times) * 0.99)] * 1e6,
        mb_per_s=megabytes / elapsed,
        frames_per_s=args.frames / elapsed,
        cpu_us_per_rtt=rtt_cpu * 1e6 / args.round_trips if rtt_cpu is not None else None,
        cpu_ms_per_mb=cpu * 1000 / megabytes if cpu is not None else None,
    )


def best(runs: list[Figures]) -> Figures:
    cpu = [r.cpu_ms_per_mb for r in runs if r.cpu_ms_per_mb is not None]
    rtt_cpu = [r.cpu_us_per_rtt for r in runs if r.cpu_us_per_rtt is not None]
    return Figures(
        median_us=min(r.median_us for r in runs),
        p99_us=min(r.p99_us for r in runs),
        mb_per_s=max(r.mb_per_s for r in runs),
        frames_per_s=max(r.frames_per_s for r in runs),
        cpu_us_per_rtt=min(rtt_cpu) if rtt_cpu else None,
        cpu_ms_per_mb=min(cpu) if cpu else None,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within 30 s")


def serve_command(port: int, *options: str) -> list[str]:
    """The web process as production runs it (ganetiweb/server.py), on 127.0.0.1:port."""
    manage = str(REPO / "manage.py")
    return [sys.executable, manage, "serve", "--port", str(port), *options]


def start(command: list[str], name: str, port: int, stack: contextlib.ExitStack):
    process = subprocess.Popen(  # noqa: S603 (our own virtualenv's programs)
        command,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stop():
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()

    stack.callback(stop)
    wait_for_port(port, process, name)
    return process


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # A benchmark stopped with SIGTERM still removes its VM and stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import libvirt

    from testbed.libvirt import define_tiny_vm, ensure_libvirtd, remove_vms, vnc_endpoint

    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ganetiweb-bench-")))
        redis_server = start_redis(scratch / "redis")
        stack.callback(redis_server.stop)
        # Read by django.setup() here and by Daphne, which inherits the environment.
        os.environ["REDIS_URL"] = redis_server.url
        os.environ["SECRET_KEY"] = os.environ["CREDENTIALS_KEYS"] = secrets.token_urlsafe(48)
        os.environ["LOG_LEVEL"] = "WARNING"
        stack.enter_context(django_database())

        uri = ensure_libvirtd()
        conn = libvirt.open(uri)
        stack.callback(conn.close)
        name = f"{VM_PREFIX}{secrets.token_hex(3)}"
        stack.callback(remove_vms, conn, name)
        domain = define_tiny_vm(conn, name, description="ganetiweb bench/console.py")
        vnc_host, vnc_port = vnc_endpoint(domain)
        user, vm, session_key = _application_side(uri, name)
        print(_heading(args, vnc_host, vnc_port, conn))

        server_port = free_port()
        server = start(serve_command(server_port), "manage.py serve", server_port, stack)
        # (d): bench/_bare_relay.py, which reads the endpoint from the environment.
        os.environ["GWBENCH_VNC_HOST"], os.environ["GWBENCH_VNC_PORT"] = vnc_host, str(vnc_port)
        bare_port = free_port()
        bare = start(
            serve_command(bare_port, "--application", "bench._bare_relay:app"),
            "manage.py serve (bare relay)",
            bare_port,
            stack,
        )
        daphne_port = free_port()
        daphne = start(
            [
                str(VENV_BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(daphne_port),
                "ganetiweb.asgi:application",
            ],
            "Daphne",
            daphne_port,
            stack,
        )
        websockify_port = free_port()
        websockify = start(
            [
                str(VENV_BIN / "websockify"),
                f"127.0.0.1:{websockify_port}",
                f"{vnc_host}:{vnc_port}",
            ],
            "websockify",
            websockify_port,
            stack,
        )

        from vms.console.tickets import issue_ticket

        async def direct():
            return TcpStream(*await asyncio.open_connection(vnc_host, vnc_port))

        def console_of(port):
            async def connect():
                ticket = issue_ticket(user, vm, session_key)
                return await WebsocketClient.connect(
                    "127.0.0.1",
                    port,
                    f"/ws/console/{vm.pk}/?ticket={ticket}",
                    {"Cookie": f"sessionid={session_key}"},
                )

            return connect

        async def bare_relay():
            return await WebsocketClient.connect("127.0.0.1", bare_port, "/")

        async def through_websockify():
            return await WebsocketClient.connect("127.0.0.1", websockify_port, "/")

        paths = {
            DIRECT: (direct, None),
            OURS: (console_of(server_port), server.pid),
            WEBSOCKIFY: (through_websockify, websockify.pid),
            BARE: (bare_relay, bare.pid),
            UNDER_DAPHNE: (console_of(daphne_port), daphne.pid),
        }
        runs: dict[str, list[Figures]] = {label: [] for label in paths}
        for _ in range(args.repeat):
            for label, (opener, pid) in paths.items():
                runs[label].append(asyncio.run(measure(opener, pid, args)))
        figures = {label: best(found) for label, found in runs.items()}
        _report(figures)
        # Each repeat measures the paths one after the other, so a repeat's ratio compares
        # runs close in time; their spread shows how much of a ratio is the machine's noise.
        ratios = " ".join(
            f"{ours.median_us / theirs.median_us:.2f}x"
            for ours, theirs in zip(runs[OURS], runs[WEBSOCKIFY], strict=True)
        )
        print(f"(b) vs (c) round trip in each repeat: {ratios}")
    return 0


def _application_side(uri: str, name: str):
    """A synced libvirt cluster, a superuser and a logged-in session, in the bench database."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from clusters.models import Cluster
    from vms.models import VirtualMachine
    from vms.sync import sync_cluster

    cluster = Cluster.objects.create(
        name="bench", slug="bench", kind="libvirt", libvirt_uris=uri, on_this_machine=True
    )
    result = sync_cluster(cluster.pk)
    if result.error:
        raise RuntimeError(f"the sync of {uri} failed: {result.error}")
    vm = VirtualMachine.objects.get(cluster=cluster, name=name)
    user = get_user_model().objects.create_superuser("bench", "bench@example.org", "unused")
    client = Client()
    client.force_login(user)
    return user, vm, client.session.session_key


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _report(figures: dict[str, Figures]) -> None:
    direct = figures[DIRECT]
    ours = figures[OURS]
    theirs = figures[WEBSOCKIFY]
    print(
        f"{'path':<{WIDTH}} {'RTT median':>11} {'RTT p99':>10} {'CPU/RTT':>10} {'stream':>11} "
        f"{'frames/s':>9} {'CPU/MB':>10}"
    )
    for label, f in figures.items():
        rtt_cpu = f"{f.cpu_us_per_rtt:7.0f} us" if f.cpu_us_per_rtt is not None else "-"
        cpu = f"{f.cpu_ms_per_mb:7.2f} ms" if f.cpu_ms_per_mb is not None else "-"
        print(
            f"{label:<{WIDTH}} {f.median_us:8.0f} us {f.p99_us:7.0f} us {rtt_cpu:>10} "
            f"{f.mb_per_s:6.2f} MB/s {f.frames_per_s:9.2f} {cpu:>10}"
        )
    print("(CPU: the proxy's processes, per round trip and per MB of the stream)")
    print()
    for label, f in (("(b) ganetiweb", ours), ("(c) websockify", theirs)):
        print(
            f"{label}: adds {(f.median_us - direct.median_us) / 1000:.3f} ms per round trip "
            f"(median, {f.median_us / direct.median_us:.1f}x direct); stream "
            f"{f.mb_per_s / direct.mb_per_s:.2f}x direct"
        )

    def against(a: Figures, b: Figures) -> str:
        return (
            f"round trip {_ratio(a.median_us, b.median_us)}, "
            f"CPU per round trip {_ratio(a.cpu_us_per_rtt, b.cpu_us_per_rtt)}, "
            f"stream {_ratio(a.mb_per_s, b.mb_per_s)}, "
            f"CPU per MB {_ratio(a.cpu_ms_per_mb, b.cpu_ms_per_mb)}"
        )

    bare, daphne = figures[BARE], figures[UNDER_DAPHNE]
    print(f"(b) vs (c), ganetiweb against websockify: {against(ours, theirs)}")
    print(f"(d) vs (c), the least any relay under this server costs: {against(bare, theirs)}")
    print(f"(b) vs (d), what the consumer adds: {against(ours, bare)}")
    print(f"(e) vs (b), the same application under Daphne: {against(daphne, ours)}")
    added = (ours.median_us - direct.median_us) / 1000
    # The stream is QEMU's pace; within 5% counts as "as fast".
    as_fast = ours.median_us <= theirs.median_us and ours.mb_per_s >= 0.95 * theirs.mb_per_s
    print(
        f"aim: under 1 ms added per round trip: {'met' if added < 1 else 'NOT met'} "
        f"({added:.3f} ms); at least as fast as websockify: {'met' if as_fast else 'NOT met'}"
    )


def _heading(args, host, port, conn) -> str:
    return (
        f"console proxy: QEMU {conn.getVersion() // 1_000_000}.{conn.getVersion() // 1000 % 1000}"
        f" VNC on {host}:{port}, {args.round_trips} round trips, {args.frames} frames, "
        f"best of {args.repeat}; Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=2)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
