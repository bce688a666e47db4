"""Ganeti's monitoring daemon (mond): plain HTTP on each node, port 1815, read-only reports.

mond answers ``/1/report/all`` with every collector's report, but that call fails as a whole
when one collector fails (on a node without LVM or DRBD it answers 500), so a node whose
``all`` fails is asked for the one report used here, ``cpu-avg-load``, alone.

A node's address is the cluster's word, so the connection goes through the destination
policy like the RAPI client's: resolved once, each address checked, the connected socket
checked again. A short timeout, a deadline for the whole answer and a size cap keep a slow
or chatty node from holding the worker.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .base import BackendError
from .destinations import DestinationPolicy

MOND_PORT = 1815
TIMEOUT = 3.0  # each connect and each read
DEADLINE = 6.0  # a whole answer
MAX_ANSWER_BYTES = 1024 * 1024
PARALLEL = 16
PATHS = ("/1/report/all", "/1/report/default/cpu-avg-load")


def fetch_reports(
    addresses: list[str], policy: DestinationPolicy | None, port: int = MOND_PORT
) -> dict[str, Any]:
    """mond's decoded answer of each node address that answers, several nodes at once."""
    addresses = [address for address in dict.fromkeys(addresses) if address]
    if not addresses:
        return {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(addresses))) as pool:
        answers = pool.map(lambda address: node_reports(address, policy, port), addresses)
        return {
            a: answer for a, answer in zip(addresses, answers, strict=True) if answer is not None
        }


def node_reports(host: str, policy: DestinationPolicy | None, port: int = MOND_PORT) -> Any:
    """The node's reports as decoded JSON, or None when mond does not answer usefully."""
    for path in PATHS:
        try:
            body = get(host, port, path, policy)
        except (BackendError, OSError, http.client.HTTPException):
            return None  # refused, unreachable or silent: the next path would be too
        if body is None:
            continue
        try:
            return json.loads(body)
        except ValueError:
            continue
    return None


def get(host: str, port: int, path: str, policy: DestinationPolicy | None) -> bytes | None:
    """The body of a 200 answer (None for another status); at most MAX_ANSWER_BYTES."""
    address = host if policy is None else policy.resolve(host, port)[0]
    connection = http.client.HTTPConnection(address, port, timeout=TIMEOUT)
    try:
        connection.connect()
        if policy is not None and connection.sock is not None:
            policy.check_connected(connection.sock, host)
        connection.request("GET", path, headers={"Host": f"{host}:{port}"})
        deadline = time.monotonic() + DEADLINE
        response = connection.getresponse()
        if response.status != 200:
            return None
        chunks, size = [], 0
        while chunk := response.read1(64 * 1024):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES or time.monotonic() > deadline:
                return None
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        with contextlib.suppress(OSError):
            connection.close()
