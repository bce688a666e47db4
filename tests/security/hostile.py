"""Real servers a hostile cluster would run, started by the tests on this machine.

`HostileRapi` is an HTTPS server with a self-signed certificate that answers RAPI paths the way
the test says (honestly, trickling, or without end) and counts every TCP connection it
accepts, so a test can prove that ganetiweb never connected. `Listener` is a plain TCP port
(a stand-in for this machine's Redis or any local service) that counts connections too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

INFO = {"name": "hostile.example", "software_version": "3.0.2", "master": "node1"}


def self_signed(directory: Path) -> tuple[str, str, str]:
    """(certificate path, key path, SHA-256 fingerprint hex) of a fresh self-signed pair."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "hostile.pem", directory / "hostile.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return str(cert_path), str(key_path), fingerprint


class HostileRapi(ThreadingHTTPServer):
    """`mode`: "honest" answers /version, /2/info and /2/nodes; "trickle" sends a valid
    answer one byte every `trickle_seconds`; "endless" sends an answer that never ends."""

    daemon_threads = True

    def __init__(self, directory: Path, mode: str = "honest"):
        super().__init__(("127.0.0.1", 0), _Handler)
        cert, key, self.fingerprint = self_signed(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.mode = mode
        self.trickle_seconds = 0.5
        self.connections = 0
        self.authorizations: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def get_request(self):
        request = super().get_request()
        self.connections += 1
        return request

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: HostileRapi

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        answers = {"/version": 2, "/2/info": INFO, "/2/nodes": []}
        body = json.dumps(answers.get(self.path.split("?")[0], {})).encode()
        if self.server.mode == "trickle":
            body += b" " * 40  # valid JSON still, 20 s at two bytes a second
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.server.mode == "endless":
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            chunk = b" " * 65536
            try:
                while True:
                    self.wfile.write(chunk)
            except OSError:
                return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.mode == "trickle":
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(self.server.trickle_seconds)
            except OSError:
                return
        else:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


class Listener:
    """A TCP port on 127.0.0.1 that accepts and counts connections, sending `greeting`."""

    def __init__(self, greeting: bytes = b"RFB 003.008\n"):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.greeting = greeting
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                conn, _address = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            with contextlib.suppress(OSError):
                conn.sendall(self.greeting)
            time.sleep(0.2)
            conn.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.socket.close()
