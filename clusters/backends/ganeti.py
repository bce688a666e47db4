"""Ganeti clusters over the Remote API (RAPI v2): HTTPS, basic auth, bulk reads and jobs.

Certificate trust comes only from the cluster's settings, never from the machine's CA store:

- a CA bundle: the chain must verify against it and the certificate must name the host;
- a pinned SHA-256 fingerprint: urllib3's ``assert_fingerprint`` compares the certificate the
  server presents during the handshake with the pin, and drops the connection on a mismatch,
  before the request (and so the password) is sent;
- neither: nothing is sent; CertificateMismatch carries the fingerprint seen, so an admin can
  confirm it ("pin on first contact", see ``fetch_certificate_fingerprint``).

Ganeti's own RAPI certificate is self-signed for ``ganeti.example.com`` with no
subjectAltName, so for an untouched cluster pinning is the way to trust it.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context

from . import mond
from ._network import causes, network_reason, url_host
from .base import (
    AuthenticationFailed,
    Backend,
    BackendError,
    CertificateMismatch,
    ConnectionReport,
    GanetiConnection,
    Inventory,
    MalformedAnswer,
    NotFound,
    OperationFailed,
    Sample,
    Timeout,
    Unreachable,
)
from .destinations import DestinationPolicy
from .ganeti_ops import GanetiOperations
from .ganeti_parse import (
    job_failure_reason,
    job_log_entries,
    parse_info,
    parse_instances,
    parse_job_id,
    parse_networks,
    parse_nodes,
    parse_os_list,
    resolve_vnc_hosts,
)
from .sample_parse import mond_cpu_percent, node_samples_from_rapi, vm_samples_from_rapi

USER_AGENT = "ganetiweb"
RAPI_VERSION = 2
# GET /2/os runs a Ganeti job that asks every node for its OS definitions.
OS_LIST_TIMEOUT = 120.0

# What a Ganeti cluster never gives, and what it gives only where mond answers.
VM_ACTIVITY_UNAVAILABLE = "CPU, disk and network activity of VMs (Ganeti's RAPI does not give it)"
LOAD_AVERAGE_UNAVAILABLE = "load average (Ganeti does not give it)"
MOND_UNAVAILABLE = "node CPU load (the cluster's monitoring daemon does not answer)"

OnLog = Callable[[int, datetime, str], None]


class GanetiBackend(Backend, GanetiOperations):
    """One Ganeti cluster, reached through RAPI on its master; its operations are in
    ganeti_ops."""

    def __init__(self, connection: GanetiConnection):
        self.connection = connection
        self._where = f"{connection.host}:{connection.port}"
        self._base_url = f"https://{url_host(connection.host)}:{connection.port}"
        self._pin = normalize_fingerprint(connection.pinned_fingerprint)
        self._session = _make_session(connection, self._pin)
        self._policy = connection.policy

    # --- Backend

    def test_connection(self) -> ConnectionReport:
        """Check RAPI version 2, read the cluster info and count the nodes."""
        version = self.get("/version")
        if version != RAPI_VERSION:
            raise MalformedAnswer(
                f"The Ganeti cluster at {self._where} speaks RAPI version {version!r}; "
                f"ganetiweb needs version {RAPI_VERSION}."
            )
        info = parse_info(self.get("/2/info"))
        nodes = self.get("/2/nodes")
        if type(nodes) is not list:
            raise MalformedAnswer(
                f"The Ganeti cluster at {self._where} answered a node list that is not a list."
            )
        return ConnectionReport(
            cluster_name=info.name,
            software_version=info.software_version,
            node_count=len(nodes),
            certificate_fingerprint=self._trusted_fingerprint(),
        )

    def fetch_inventory(self) -> Inventory:
        """Read everything a sync needs with five bulk GETs."""
        info = parse_info(self.get("/2/info"))
        nodes = parse_nodes(self.get("/2/nodes", {"bulk": True}))
        vms = parse_instances(self.get("/2/instances", {"bulk": True}))
        networks = parse_networks(self.get("/2/networks", {"bulk": True}))
        oses = parse_os_list(
            self.get("/2/os", timeout=max(self.connection.timeout, OS_LIST_TIMEOUT))
        )
        resolve_vnc_hosts(vms, nodes)
        return Inventory(info=info, nodes=nodes, vms=vms, networks=networks, operating_systems=oses)

    def sample(self) -> Sample:
        """Node memory, disk and CPU counts and instance memory in bulk from RAPI, and each
        node's CPU load from the monitoring daemon where it answers."""
        at = datetime.now(UTC)
        nodes = node_samples_from_rapi(self.get("/2/nodes", {"bulk": True}))
        vms = vm_samples_from_rapi(self.get("/2/instances", {"bulk": True}))
        reports = mond.fetch_reports([address for _node, address in nodes], self._policy)
        for node, address in nodes:
            if address in reports:
                node.cpu_percent = mond_cpu_percent(reports[address])
        unavailable = [VM_ACTIVITY_UNAVAILABLE, LOAD_AVERAGE_UNAVAILABLE]
        if nodes and all(node.cpu_percent is None for node, _address in nodes):
            unavailable.append(MOND_UNAVAILABLE)
        return Sample(
            at=at, vms=vms, nodes=[node for node, _address in nodes], unavailable=unavailable
        )

    def close(self) -> None:
        self._session.close()

    # --- generic RAPI calls, for the lifecycle operations

    def get(self, path: str, params: dict | None = None, *, timeout: float | None = None) -> Any:
        return self._request("GET", path, None, params, timeout)

    def post(self, path: str, body: Any = None, params: dict | None = None) -> Any:
        return self._request("POST", path, body, params)

    def put(self, path: str, body: Any = None, params: dict | None = None) -> Any:
        return self._request("PUT", path, body, params)

    def delete(self, path: str, body: Any = None, params: dict | None = None) -> Any:
        return self._request("DELETE", path, body, params)

    def wait_for_job(
        self,
        job_id: int | str,
        on_log: OnLog | None = None,
        poll: float = 1.0,
        timeout: float = 3600.0,
    ) -> dict:
        """Follow ``/2/jobs/ID`` until it ends; return the job when it succeeded.

        ``on_log(serial, time, message)`` gets each oplog entry once, in order, as it appears.
        A failed or canceled job raises OperationFailed with Ganeti's reason; a job still
        running after ``timeout`` seconds raises Timeout (it goes on in the cluster).
        """
        job_id = parse_job_id(job_id)
        deadline = time.monotonic() + timeout
        last_serial = 0
        while True:
            job = self.get(f"/2/jobs/{job_id}")
            if type(job) is not dict:
                raise MalformedAnswer(f"Ganeti answered job {job_id} with {job!r}.")
            status = job.get("status")
            if status is None:  # RAPI answers 200 with every field null for an unknown job
                raise NotFound(f"The Ganeti cluster at {self._where} has no job {job_id}.")
            for serial, when, message in job_log_entries(job, last_serial):
                last_serial = serial
                if on_log is not None:
                    on_log(serial, when, message)
            if status == "success":
                return job
            if status in ("error", "canceled"):
                raise OperationFailed(
                    f"Ganeti job {job_id} {_ENDED[status]}: {job_failure_reason(job)}."
                )
            if time.monotonic() >= deadline:
                raise Timeout(
                    f"Ganeti job {job_id} is still {status} after {timeout:g} s; "
                    f"it goes on in the cluster."
                )
            time.sleep(poll)

    # --- plumbing

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request and decode the answer; every failure becomes a BackendError."""
        if not self._pin and not self.connection.ca_bundle_pem:
            raise self._untrusted()
        # A call that asks for a longer timeout (the OS list) gets that long in all.
        seconds = max(self.connection.deadline, timeout or 0)
        timeout = timeout or self.connection.timeout
        if self._policy is not None:
            self._policy.resolve(self.connection.host, self.connection.port)
        headers = None if body is None else {"Content-Type": "application/json"}
        with _deadline(seconds) as expired:
            try:
                response = self._session.request(
                    method,
                    self._base_url + path,
                    params=_query(params),
                    data=None if body is None else json.dumps(body),
                    headers=headers,
                    timeout=timeout,
                    stream=True,
                )
                with response:
                    content = self._read(method, path, response)
            except requests.RequestException as exc:
                if expired.is_set():
                    raise self._past_deadline(method, path, seconds) from exc
                raise self._transport_error(exc, timeout) from exc
        return self._decode(method, path, response, content)

    def _read(self, method: str, path: str, response: requests.Response) -> bytes:
        """The answer's body, refused past max_answer_bytes (read in chunks, never whole)."""
        cap = self.connection.max_answer_bytes
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise MalformedAnswer(
                    f"The Ganeti cluster at {self._where} answered {method} {path} with more "
                    f"than {cap // (1024 * 1024)} MiB; ganetiweb reads no more than that."
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _past_deadline(self, method: str, path: str, seconds: float) -> Timeout:
        return Timeout(
            f"The Ganeti cluster at {self._where} did not finish answering {method} {path} "
            f"within {seconds:g} s."
        )

    def _decode(self, method: str, path: str, response: requests.Response, content: bytes) -> Any:
        if response.status_code == 200:
            try:
                return json.loads(content)
            except ValueError:
                raise MalformedAnswer(
                    f"The Ganeti cluster at {self._where} answered {method} {path} with "
                    f"something that is not JSON."
                ) from None
        raise self._http_error(method, path, response, content)

    def _http_error(
        self, method: str, path: str, response: requests.Response, content: bytes
    ) -> BackendError:
        """RAPI's error answer ``{code, message, explain}`` as a typed error in words."""
        status = response.status_code
        reason = _rapi_reason(response, content)
        where = f"The Ganeti cluster at {self._where}"
        if status == 401:
            user = self.connection.username
            if not user:
                return AuthenticationFailed(f"{where} requires a user name and password.")
            return AuthenticationFailed(f"{where} refused the user name {user!r} or its password.")
        if status == 403:
            return AuthenticationFailed(
                f"{where} refused {method} {path} to the user {self.connection.username!r}: "
                f"{reason}. Changes need the 'write' right in Ganeti's RAPI users file."
            )
        if status == 404:
            return NotFound(f"{where} has nothing at {path}.")
        if status == 502:
            return OperationFailed(f"{where} cannot reach its master daemon: {reason}.")
        if status == 503:
            return OperationFailed(f"{where} is busy (job queue full or drained): {reason}.")
        return OperationFailed(f"{where} refused {method} {path}: {reason} (HTTP {status}).")

    def _transport_error(self, exc: requests.RequestException, timeout: float) -> BackendError:
        if isinstance(exc, requests.exceptions.SSLError):
            return self._tls_error(exc)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return Unreachable(
                f"Cannot reach the Ganeti cluster at {self._where}: no answer within {timeout:g} s."
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return Timeout(
                f"The Ganeti cluster at {self._where} accepted the connection but did not "
                f"answer within {timeout:g} s."
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            return Unreachable(
                f"Cannot reach the Ganeti cluster at {self._where}: {network_reason(exc)}."
            )
        return BackendError(f"Talking to the Ganeti cluster at {self._where} failed: {exc}")

    def _tls_error(self, exc: requests.exceptions.SSLError) -> BackendError:
        for cause in causes(exc):
            match = _FINGERPRINT_MISMATCH.search(str(cause))
            if match:
                seen = format_fingerprint(match.group(1))
                return CertificateMismatch(
                    f"The Ganeti cluster at {self._where} presented a certificate with SHA-256 "
                    f"fingerprint {seen}, not the pinned {format_fingerprint(self._pin)}. "
                    "If the certificate was renewed on purpose, confirm the new fingerprint.",
                    fingerprint=seen,
                )
            if isinstance(cause, ssl.SSLCertVerificationError):
                return CertificateMismatch(
                    f"The Ganeti cluster at {self._where} presented a certificate that fails "
                    f"verification with the configured CA bundle: "
                    f"{cause.verify_message.rstrip('.')}.",
                    fingerprint=self._seen_fingerprint(),
                )
        return Unreachable(
            f"Cannot reach the Ganeti cluster at {self._where}: the TLS handshake failed "
            f"({network_reason(exc)})."
        )

    def _untrusted(self) -> CertificateMismatch:
        seen = fetch_certificate_fingerprint(
            self.connection.host, self.connection.port, self.connection.timeout, self._policy
        )
        return CertificateMismatch(
            f"The cluster's certificate is not trusted yet: the Ganeti cluster at {self._where} "
            f"presents SHA-256 fingerprint {seen}. Confirm (pin) it, or give the CA bundle that "
            "signed it, in the cluster's settings.",
            fingerprint=seen,
        )

    def _seen_fingerprint(self) -> str | None:
        """The fingerprint to show with a verification error; None if it cannot be read."""
        try:
            return fetch_certificate_fingerprint(
                self.connection.host, self.connection.port, self.connection.timeout, self._policy
            )
        except BackendError:
            return None

    def _trusted_fingerprint(self) -> str:
        if self._pin:
            return format_fingerprint(self._pin)
        return self._seen_fingerprint() or ""


_ENDED = {"error": "failed", "canceled": "was canceled"}
# urllib3's message: 'Fingerprints did not match. Expected "<hex>", got "<hex>"'
_FINGERPRINT_MISMATCH = re.compile(r'Fingerprints did not match.*got "([0-9a-fA-F]+)"')


# --- certificates


def fetch_certificate_fingerprint(
    host: str, port: int = 5080, timeout: float = 15.0, policy: DestinationPolicy | None = None
) -> str:
    """The SHA-256 fingerprint of the server's certificate, read without verifying it.

    For "pin on first contact": nothing but a TLS handshake happens, no credentials are sent.
    Returns colon-separated uppercase hex, as ``openssl x509 -fingerprint -sha256`` prints it.
    With a policy, the name is resolved and checked once and the handshake goes to that address.
    """
    address = host if policy is None else policy.resolve(host, port)[0]
    try:
        pem = ssl.get_server_certificate((address, port), timeout=timeout)
    except ssl.SSLError as exc:
        raise Unreachable(
            f"Cannot reach the Ganeti cluster at {host}:{port}: the TLS handshake failed "
            f"({network_reason(exc)}). Is {port} the RAPI port?"
        ) from exc
    except TimeoutError as exc:
        raise Timeout(
            f"The Ganeti cluster at {host}:{port} did not answer within {timeout:g} s."
        ) from exc
    except OSError as exc:
        raise Unreachable(
            f"Cannot reach the Ganeti cluster at {host}:{port}: {network_reason(exc)}."
        ) from exc
    return format_fingerprint(hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest())


def normalize_fingerprint(text: str) -> str:
    """A pin as lowercase hex without separators ("" when none is set); refuse a malformed one."""
    hex_digits = re.sub(r"[\s:]", "", text or "").lower().removeprefix("sha256")
    if hex_digits and not re.fullmatch(r"[0-9a-f]{64}", hex_digits):
        raise CertificateMismatch(
            f"The pinned certificate fingerprint {text!r} is not a SHA-256 fingerprint "
            "(64 hexadecimal digits, colons allowed); fix it in the cluster's settings."
        )
    return hex_digits


def format_fingerprint(hex_digits: str) -> str:
    """``ab12...`` -> ``AB:12:...``."""
    hex_digits = hex_digits.replace(":", "").upper()
    return ":".join(hex_digits[i : i + 2] for i in range(0, len(hex_digits), 2))


class _TrustAdapter(HTTPAdapter):
    """Trust exactly what the cluster's settings say, nothing from requests' defaults."""

    def __init__(self, ca_bundle_pem: str, pin: str, policy: DestinationPolicy | None):
        # One context for every connection, set before super().__init__(), which builds the
        # pool manager. Without one, urllib3 builds a context per connection and loads the
        # machine's CA store into it, about 40 ms of CPU per request (RAPI closes every
        # connection), for certificates a pin never uses.
        self._ssl_context = _ca_context(ca_bundle_pem) if ca_bundle_pem else _pin_context()
        self._pin = pin
        self._policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **pool_kwargs: Any) -> None:
        if self._pin:
            pool_kwargs["assert_fingerprint"] = self._pin
        pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"https": _guarded_pool(self._policy)}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests would load its default (public) CA bundle into every connection.
        conn.cert_reqs = "CERT_REQUIRED" if verify else "CERT_NONE"
        conn.ca_certs = None
        conn.ca_cert_dir = None


class _GuardedConnection(HTTPSConnection):
    """Checks where the socket really went before TLS and the request (and so the password):
    the name may have resolved differently since the policy checked it. The socket is also
    handed to the request's deadline, which shuts it when time is up."""

    policy: DestinationPolicy | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            if self.policy is not None:
                self.policy.check_connected(sock, self.host)
        except BaseException:
            sock.close()
            raise
        _watch(sock)
        return sock


def _guarded_pool(policy: DestinationPolicy | None) -> type[HTTPSConnectionPool]:
    """A pool class whose connections check `policy` (urllib3 builds them from the class)."""
    connection = type("GuardedConnection", (_GuardedConnection,), {"policy": policy})
    return type("GuardedPool", (HTTPSConnectionPool,), {"ConnectionCls": connection})


# The sockets of the requests running in this thread, shut when their deadline passes.
_deadlines = threading.local()


@contextmanager
def _deadline(seconds: float) -> Iterator[threading.Event]:
    """Shut every socket the request opens once `seconds` have passed: requests' timeout
    bounds each read, not the whole answer, which a server can trickle in forever."""
    expired = threading.Event()
    sockets: list[socket.socket] = []

    def expire() -> None:
        expired.set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    _deadlines.sockets = sockets
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()
        _deadlines.sockets = None
        for sock in sockets:
            sock.close()


def _watch(sock: socket.socket) -> None:
    """Keep a duplicate of the socket's descriptor: shutting it down ends the connection
    for the TLS socket too, which takes the original's descriptor over before the handshake
    (and the handshake is as slow as the server likes)."""
    sockets = getattr(_deadlines, "sockets", None)
    if sockets is not None:
        sockets.append(sock.dup())


def _pin_context() -> ssl.SSLContext:
    """No chain verification and no CA at all: the pin alone decides (``assert_fingerprint``)."""
    return create_urllib3_context(cert_reqs=ssl.CERT_NONE)


def _ca_context(ca_bundle_pem: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cadata=ca_bundle_pem)
    except ssl.SSLError as exc:
        raise CertificateMismatch(
            f"The CA bundle in the cluster's settings is not a PEM certificate ({exc.reason})."
        ) from exc


def _make_session(connection: GanetiConnection, pin: str) -> requests.Session:
    session = requests.Session()
    # No proxies, .netrc or REQUESTS_CA_BUNDLE from the environment: an environment CA bundle
    # would override the trust configured here, and .netrc the credentials.
    session.trust_env = False
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    if connection.username or connection.password:
        session.auth = (connection.username, connection.password)
    # The chain is verified only against a configured CA bundle; a pin alone checks the
    # certificate itself, so the chain (self-signed) is not verified.
    session.verify = bool(connection.ca_bundle_pem)
    session.mount("https://", _TrustAdapter(connection.ca_bundle_pem, pin, connection.policy))
    return session


# --- small helpers


def _rapi_reason(response: requests.Response, content: bytes) -> str:
    """The reason in RAPI's ``{code, message, explain}``.

    ``message`` carries Ganeti's reason, HTML-escaped; ``explain`` is mostly the generic text of
    the HTTP status ("Bad request syntax or unsupported method"), left out when it is.
    """
    try:
        payload = json.loads(content)
    except ValueError:
        payload = None
    if type(payload) is not dict:
        return response.reason or f"HTTP {response.status_code}"
    message = html.unescape(str(payload.get("message") or response.reason or ""))
    explain = html.unescape(str(payload.get("explain") or ""))
    generic = BaseHTTPRequestHandler.responses.get(response.status_code, ("", ""))[1]
    if explain and explain != generic and explain != message:
        return f"{message} ({explain})" if message else explain
    return message or f"HTTP {response.status_code}"


def _query(params: dict | None) -> dict | None:
    """RAPI's query conventions: booleans as 0/1, None left out."""
    if not params:
        return None
    return {
        key: (int(value) if isinstance(value, bool) else value)
        for key, value in params.items()
        if value is not None
    }
