"""Which libvirt URIs a cluster may name.

libvirt reads more than a host from a URI: ``?command=`` runs a program for the ssh transport,
``?socket=`` and ``?netcat=`` choose a socket or a remote command, ``qemu+ext://`` runs any
local program, ``test:///PATH`` reads a file. A URI here is a QEMU driver (``test:`` only when
the test settings allow it), a known transport, the ``/system`` or ``/session`` path, and at
most the few query keys that change nothing but how ssh authenticates.

Plain Python: the settings form and the libvirt backend both check with ``uri_problem``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

TRANSPORTS = {"", "ssh", "libssh", "libssh2", "tcp", "tls", "unix"}
PATHS = {"/system", "/session"}
# Documented keys that only shape the ssh login; anything else is refused.
SAFE_QUERY = {
    "no_tty": {"0", "1"},
    "sshauth": {"agent", "privkey", "password", "keyboard-interactive"},
}
DEFAULT_PORTS = {"ssh": 22, "libssh": 22, "libssh2": 22, "tcp": 16509, "tls": 16514, "": 16514}
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$")
USER = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# What uri_problem answers; the form turns each into a sentence.
NOT_A_URI = "not_a_uri"
DRIVER = "driver"
TRANSPORT = "transport"
PATH = "path"
QUERY = "query"
HOST_NAME = "host"
PROBLEMS = {
    NOT_A_URI: "it is not a libvirt URI",
    DRIVER: "only the QEMU driver (qemu...) is allowed",
    TRANSPORT: "its transport is not one of ssh, libssh, libssh2, tcp, tls and unix",
    PATH: "its path is neither /system nor /session",
    QUERY: "its query string has keys other than no_tty and sshauth",
    HOST_NAME: "its host, user or port is not plain",
}


def uri_problem(uri: str, allow_test_driver: bool = False) -> str | None:
    """What is wrong with the URI (one of the codes above), or None when it may be used."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return NOT_A_URI
    driver, _plus, transport = parts.scheme.partition("+")
    drivers = {"qemu", "test"} if allow_test_driver else {"qemu"}
    if not parts.scheme or parts.fragment or any(char.isspace() for char in uri):
        return NOT_A_URI
    if driver not in drivers:
        return DRIVER
    if transport not in TRANSPORTS:
        return TRANSPORT
    if driver == "qemu" and parts.path not in PATHS:
        return PATH
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if value not in SAFE_QUERY.get(key, ()):
            return QUERY
    if parts.netloc:
        host = parts.hostname or ""
        if (
            transport == "unix"
            or not HOST.match(_bracketed(host))
            or parts.password is not None
            or (parts.username is not None and not USER.match(parts.username))
            or (port is not None and not 0 < port < 65536)
        ):
            return HOST_NAME
    return None


def remote_endpoint(uri: str) -> tuple[str, int] | None:
    """(host, port) the URI makes libvirt connect to; None for a local URI (a Unix socket)."""
    parts = urlsplit(uri)
    if not parts.hostname:
        return None
    transport = parts.scheme.partition("+")[2]
    return parts.hostname, parts.port or DEFAULT_PORTS.get(transport, 16514)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
