"""Benchmark one Remote API request of the Ganeti backend against the least such a request is.

Against the real Ganeti test cluster (testbed/ganeti.py, started if it is not running and left
running, like the tests), ``--requests`` (50) times ``GET /version``:

(a) the baseline: ``http.client.HTTPSConnection`` with one TLS context made beforehand, basic
    auth, a new connection per request (Ganeti's RAPI answers ``Connection: close``), the
    certificate's SHA-256 compared with the pin after the handshake;
(b) ganetiweb: ``GanetiBackend.get("/version")`` with the cluster's certificate pinned, as a
    worker makes every RAPI call (requests, urllib3's ``assert_fingerprint``, JSON decoding).

It prints wall time and this process's CPU time per request (RAPI's side runs in the test
cluster's own processes), best of ``--repeat`` (3) interleaved runs, and (b)'s ratio to (a).

    .venv/bin/python bench/rapi.py [--requests 50 --repeat 3]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import os
import platform
import ssl
import sys
import time
from dataclasses import dataclass

from testbed import ganeti


@dataclass
class Figures:
    wall_ms: float
    cpu_ms: float


def measure(request, count: int) -> Figures:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        request()
    return Figures(
        wall_ms=(time.perf_counter() - wall) * 1000 / count,
        cpu_ms=(time.process_time() - cpu) * 1000 / count,
    )


def bare_request(bed: ganeti.GanetiTestbed):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the pin below is the trust, as in (b)
    credentials = base64.b64encode(f"{bed.rapi_user}:{bed.rapi_password}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json"}

    def request():
        connection = http.client.HTTPSConnection(bed.rapi_host, bed.rapi_port, context=context)
        try:
            connection.connect()
            der = connection.sock.getpeercert(binary_form=True)
            if hashlib.sha256(der).hexdigest() != bed.cert_sha256:
                raise RuntimeError("the RAPI certificate is not the pinned one")
            connection.request("GET", "/version", headers=headers)
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"GET /version answered {response.status}")
            response.read()
        finally:
            connection.close()

    return request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ganetiweb.settings")
    import django

    django.setup()
    from _ganeti_instances import backend as pinned_backend

    bed = ganeti.start()
    backend = pinned_backend(bed)
    paths = {
        "(a) http.client, one TLS context": bare_request(bed),
        "(b) GanetiBackend.get, pinned": lambda: backend.get("/version"),
    }
    for request in paths.values():
        request()  # warm-up: imports, the first handshake
    runs: dict[str, list[Figures]] = {label: [] for label in paths}
    for _ in range(args.repeat):
        for label, request in paths.items():
            runs[label].append(measure(request, args.requests))
    best = {
        label: Figures(min(f.wall_ms for f in found), min(f.cpu_ms for f in found))
        for label, found in runs.items()
    }
    print(
        f"RAPI GET /version on {bed.rapi_host}:{bed.rapi_port}, {args.requests} requests, best "
        f"of {args.repeat}; Python {platform.python_version()}, OpenSSL "
        f"{ssl.OPENSSL_VERSION.split()[1]}"
    )
    print(f"{'path':<34} {'wall/request':>13} {'CPU/request':>12}")
    for label, f in best.items():
        print(f"{label:<34} {f.wall_ms:10.1f} ms {f.cpu_ms:9.1f} ms")
    base, ours = best["(a) http.client, one TLS context"], best["(b) GanetiBackend.get, pinned"]
    print(
        f"(b) vs (a): wall {ours.wall_ms / base.wall_ms:.2f}x, "
        f"CPU {ours.cpu_ms / max(base.cpu_ms, 1e-9):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
