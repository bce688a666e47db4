"""The RAPI client's TLS trust and HTTP handling, against a local HTTPS server.

The real cluster (test_ganeti_backend.py) has one self-signed certificate that names no
address, so it cannot show a CA bundle being accepted, nor prove what reaches the server before
the certificate is checked. A small server on loopback with certificates made here can: it
records every request it receives, with its headers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clusters.backends.base import (
    AuthenticationFailed,
    CertificateMismatch,
    GanetiConnection,
    MalformedAnswer,
    OperationFailed,
    Timeout,
)
from clusters.backends.ganeti import GanetiBackend, fetch_certificate_fingerprint

INFO = {"name": "local.example", "software_version": "3.0.2", "master": "node1"}


class FakeRapi(ThreadingHTTPServer):
    """Answers from ``routes[(method, path)]``: a list of (status, body); the last repeats."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.requests: list[dict] = []
        self.delay = 0.0
        self.routes: dict[tuple[str, str], list[tuple[int, object]]] = {
            ("GET", "/version"): [(200, 2)],
            ("GET", "/2/info"): [(200, INFO)],
            ("GET", "/2/nodes"): [(200, [{"id": "node1", "uri": "/2/nodes/node1"}])],
        }

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: FakeRapi

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._answer()

    do_POST = do_PUT = do_DELETE = do_GET  # noqa: N815

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers),
             "body": self.rfile.read(length).decode()}
        )  # fmt: skip
        time.sleep(self.server.delay)
        answers = self.server.routes.get((self.command, self.path.split("?")[0]))
        status, body = (
            answers.pop(0) if answers and len(answers) > 1 else (answers or [(404, {})])[0]
        )
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, str]:
    """A CA, a server certificate it signed for 127.0.0.1, and an unrelated CA."""
    directory: Path = tmp_path_factory.mktemp("pki")
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    other_ca = _certificate("other CA", other_key, "other CA", other_key, ca=True)
    server = _certificate("rapi", server_key, "test CA", ca_key, ca=False)
    (directory / "server.pem").write_text(_pem(server))
    (directory / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    der = server.public_bytes(serialization.Encoding.DER)
    return {
        "ca": _pem(ca),
        "other_ca": _pem(other_ca),
        "cert": str(directory / "server.pem"),
        "key": str(directory / "server.key"),
        "sha256": hashlib.sha256(der).hexdigest(),
    }


@pytest.fixture
def rapi(pki) -> Iterator[FakeRapi]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])
    server = FakeRapi(context)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def backend(rapi: FakeRapi, **settings) -> GanetiBackend:
    settings = {"host": "127.0.0.1", "port": rapi.port, "username": "admin",
                "password": "s3cret", "timeout": 5, **settings}  # fmt: skip
    return GanetiBackend(GanetiConnection(**settings))


# --- trust


def test_it_trusts_a_certificate_signed_by_the_configured_ca(rapi, pki):
    report = backend(rapi, ca_bundle_pem=pki["ca"]).test_connection()

    assert (report.cluster_name, report.software_version, report.node_count) == (
        "local.example", "3.0.2", 1,
    )  # fmt: skip
    assert report.certificate_fingerprint.replace(":", "").lower() == pki["sha256"]
    assert [r["path"] for r in rapi.requests] == ["/version", "/2/info", "/2/nodes"]
    headers = rapi.requests[0]["headers"]
    assert headers["Authorization"].startswith("Basic ")
    assert headers["User-Agent"] == "ganetiweb"


def test_it_refuses_a_certificate_of_another_ca_before_sending_the_password(rapi, pki):
    with pytest.raises(CertificateMismatch) as caught:
        backend(rapi, ca_bundle_pem=pki["other_ca"]).test_connection()

    assert "fails verification with the configured CA bundle" in str(caught.value)
    assert caught.value.fingerprint.replace(":", "").lower() == pki["sha256"]
    assert rapi.requests == []


def test_a_certificate_for_another_host_name_is_refused(rapi, pki):
    with pytest.raises(CertificateMismatch, match="localhost"):
        backend(rapi, host="localhost", ca_bundle_pem=pki["ca"]).test_connection()

    assert rapi.requests == []


def test_a_matching_pin_is_trusted_without_a_ca(rapi, pki):
    report = backend(rapi, pinned_fingerprint=pki["sha256"].upper()).test_connection()

    assert report.certificate_fingerprint.replace(":", "").lower() == pki["sha256"]


def test_the_machines_ca_store_is_never_loaded(rapi, pki, monkeypatch):
    """Trust comes from the cluster's settings only; urllib3 would otherwise load the system
    CA store into a new context for each connection (RAPI closes every one), 40 ms of CPU."""
    loads = []
    original = ssl.SSLContext.load_default_certs
    monkeypatch.setattr(
        ssl.SSLContext,
        "load_default_certs",
        lambda context, *args: loads.append(context) or original(context, *args),
    )

    backend(rapi, pinned_fingerprint=pki["sha256"]).test_connection()
    backend(rapi, ca_bundle_pem=pki["ca"]).test_connection()

    assert len(rapi.requests) == 6  # three requests each
    assert loads == []


def test_a_wrong_pin_stops_the_connection_before_the_request_is_sent(rapi, pki):
    with pytest.raises(CertificateMismatch, match="not the pinned") as caught:
        backend(rapi, pinned_fingerprint="ab" * 32).test_connection()

    assert caught.value.fingerprint.replace(":", "").lower() == pki["sha256"]
    assert rapi.requests == []


def test_without_trust_nothing_is_sent_and_the_fingerprint_is_shown(rapi, pki):
    with pytest.raises(CertificateMismatch, match="not trusted yet") as caught:
        backend(rapi).test_connection()

    assert caught.value.fingerprint == fetch_certificate_fingerprint("127.0.0.1", rapi.port)
    assert caught.value.fingerprint.replace(":", "").lower() == pki["sha256"]
    assert rapi.requests == []


def test_a_malformed_pin_is_refused_with_what_a_pin_looks_like():
    with pytest.raises(CertificateMismatch, match="64 hexadecimal digits"):
        GanetiBackend(GanetiConnection(host="127.0.0.1", pinned_fingerprint="12:34"))


# --- HTTP


@pytest.fixture
def pinned(rapi, pki) -> GanetiBackend:
    return backend(rapi, pinned_fingerprint=pki["sha256"])


def test_a_body_goes_as_json_and_booleans_as_0_or_1(pinned, rapi):
    rapi.routes[("POST", "/2/instances")] = [(200, 7)]

    assert pinned.post("/2/instances", {"name": "vm1"}, {"dry-run": True}) == 7
    pinned.get("/2/info", {"bulk": False})

    post, get = rapi.requests
    assert post["path"] == "/2/instances?dry-run=1"
    assert post["headers"]["Content-Type"] == "application/json"
    assert json.loads(post["body"]) == {"name": "vm1"}
    assert get["path"] == "/2/info?bulk=0"
    assert "Content-Type" not in get["headers"]


def test_an_answer_that_is_not_json_is_malformed(pinned, rapi):
    rapi.routes[("GET", "/2/info")] = [(200, b"<html>proxy error</html>")]

    with pytest.raises(MalformedAnswer, match="GET /2/info with something that is not JSON"):
        pinned.get("/2/info")


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, AuthenticationFailed, "refused the user name 'admin' or its password"),
        (403, AuthenticationFailed, "'write' right"),
        (502, OperationFailed, "cannot reach its master daemon"),
        (503, OperationFailed, "job queue full or drained"),
        (500, OperationFailed, "list index out of range (HTTP 500)"),
    ],
)
def test_each_http_error_becomes_a_typed_error_in_words(pinned, rapi, status, error, words):
    rapi.routes[("GET", "/2/info")] = [
        (status, {"code": status, "message": "list index out of range", "explain": ""})
    ]

    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        pinned.get("/2/info")


def test_ganetis_html_escaped_reason_is_shown_as_text(pinned, rapi):
    message = "Invalid body parameters: (&quot;Parameter &#x27;name&#x27; fails&quot;)"
    rapi.routes[("POST", "/2/instances")] = [
        (
            400,
            {
                "code": 400,
                "message": message,
                "explain": "Bad request syntax or unsupported method",
            },
        )
    ]

    with pytest.raises(OperationFailed) as caught:
        pinned.post("/2/instances", {})

    reason = """Invalid body parameters: ("Parameter 'name' fails") (HTTP 400)."""
    assert str(caught.value).endswith(f"refused POST /2/instances: {reason}")


def test_a_server_that_does_not_answer_in_time_is_a_timeout(rapi, pki):
    rapi.delay = 2
    slow = backend(rapi, pinned_fingerprint=pki["sha256"], timeout=0.5)

    with pytest.raises(Timeout, match="did not answer within 0.5 s"):
        slow.get("/version")


def test_wait_for_job_reports_each_log_line_once_until_success(pinned, rapi):
    first = [1, [1795566725, 0], "message", "selecting nodes"]
    second = [2, [1795566726, 500000], "message", "* starting instance..."]
    rapi.routes[("GET", "/2/jobs/7")] = [
        (200, {"id": 7, "status": "queued", "oplog": [[]], "opresult": [None]}),
        (200, {"id": 7, "status": "running", "oplog": [[first]], "opresult": [None]}),
        (200, {"id": 7, "status": "running", "oplog": [[first]], "opresult": [None]}),
        (200, {"id": 7, "status": "success", "oplog": [[first, second]], "opresult": [["n1"]]}),
    ]
    lines = []

    job = pinned.wait_for_job("7", on_log=lambda *entry: lines.append(entry), poll=0.01)

    assert job["opresult"] == [["n1"]]
    assert [(serial, message) for serial, _, message in lines] == [
        (1, "selecting nodes"),
        (2, "* starting instance..."),
    ]
    assert lines[1][1] == dt.datetime(2026, 11, 25, 0, 32, 6, 500000, tzinfo=dt.UTC)


def test_wait_for_job_gives_up_after_its_timeout(pinned, rapi):
    rapi.routes[("GET", "/2/jobs/8")] = [(200, {"id": 8, "status": "running", "oplog": [[]]})]

    with pytest.raises(Timeout, match="job 8 is still running after 0.2 s"):
        pinned.wait_for_job(8, poll=0.05, timeout=0.2)


def test_wait_for_job_reports_a_canceled_job(pinned, rapi):
    rapi.routes[("GET", "/2/jobs/9")] = [
        (200, {"id": 9, "status": "canceled", "opstatus": ["canceled"], "oplog": [[]],
               "opresult": [["OpExecError", ["Job canceled by request"]]]})
    ]  # fmt: skip

    with pytest.raises(OperationFailed, match="job 9 was canceled: Job canceled by request"):
        pinned.wait_for_job(9)
