"""Why a connection failed, in a few words; shared by the Ganeti and libvirt backends."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from http.client import RemoteDisconnected

ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "the network is unreachable",
    errno.ECONNRESET: "the connection was reset",
    errno.ETIMEDOUT: "the connection timed out",
    errno.EADDRNOTAVAIL: "the address is not available",
}


def network_reason(exc: BaseException) -> str:
    """ "connection refused", "no route to host", "the name does not resolve"..., else str(exc)."""
    for cause in causes(exc):
        if isinstance(cause, socket.gaierror) or type(cause).__name__ == "NameResolutionError":
            return "the name does not resolve"
        if isinstance(cause, RemoteDisconnected):
            return "the connection was closed without an answer"
        if isinstance(cause, OSError) and cause.errno in ERRNO_REASONS:
            return ERRNO_REASONS[cause.errno]
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return cause.reason.replace("_", " ").lower()
    return str(exc)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: cause, context, urllib3's ``reason``, args."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        todo += [item for item in linked if isinstance(item, BaseException)]


def url_host(host: str) -> str:
    """A host as it goes in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
