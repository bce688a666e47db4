"""A real single-node Ganeti cluster, in a network namespace, for the tests and the demo.

``scripts/ganeti-testbed`` does the work (it needs root); this module starts it, reads the
JSON it prints and talks to the cluster:

    cluster = start()                          # idempotent: reuses a running cluster
    cluster.rapi("GET", "/2/info")             # RAPI over HTTPS, authenticated, pinned
    job = cluster.rapi("POST", "/2/instances", {...})
    cluster.wait_for_job(job)
    cluster.gnt("gnt-instance", "list")        # a gnt-* command inside the node
    stop()                                     # removes everything

TLS: Ganeti signs its RAPI certificate for CN ``ganeti.example.com`` with no subjectAltName, so
ordinary verification against ``cert_path`` cannot match the address we connect to. ``rapi()``
therefore pins the certificate: urllib3 hashes the DER certificate the server presents during
the handshake and refuses the connection, before any credentials are sent, unless its SHA-256
equals that of ``cert_path``. Should the certificate ever name the host (e.g. after
``gnt-cluster renew-crypto --rapi-certificate=...`` with a proper SAN), ordinary verification
with ``verify=cert_path`` is used instead.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import ipaddress
import json
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "ganeti-testbed"

#: `up` from nothing takes about 10 s; allow for a slow, busy machine.
START_TIMEOUT = 300
JOB_FINAL_STATES = frozenset({"success", "error", "canceled"})


class RapiError(RuntimeError):
    """RAPI answered with an HTTP error; ``payload`` is Ganeti's ``{code, message, explain}``."""

    def __init__(self, method: str, path: str, status: int, payload: Any):
        self.status = status
        self.payload = payload
        super().__init__(f"{method} {path} -> HTTP {status}: {payload}")


@dataclasses.dataclass
class GanetiTestbed:
    """How to reach the test cluster; the fields are the JSON printed by ``ganeti-testbed up``."""

    rapi_host: str
    rapi_port: int
    rapi_user: str
    rapi_password: str = dataclasses.field(repr=False)
    cluster_name: str
    master_node: str
    node_address: str
    cert_path: str
    state_dir: str
    netns: str
    anchor_pid: int

    @property
    def base_url(self) -> str:
        return f"https://{self.rapi_host}:{self.rapi_port}"

    @property
    def cert_sha256(self) -> str:
        """SHA-256 (hex) of the RAPI certificate's DER encoding, as pinned by ``rapi()``."""
        der = ssl.PEM_cert_to_DER_cert(Path(self.cert_path).read_text())
        return hashlib.sha256(der).hexdigest()

    @functools.cached_property
    def session(self) -> requests.Session:
        """A requests session with basic auth and the TLS policy described in the module doc."""
        session = requests.Session()
        # Ignore proxies, .netrc and REQUESTS_CA_BUNDLE from the environment: the cluster is
        # local, and an environment CA bundle would override ``verify`` per request.
        session.trust_env = False
        session.auth = (self.rapi_user, self.rapi_password)
        session.headers["Content-Type"] = "application/json"
        if _cert_names_host(self.cert_path, self.rapi_host):
            session.verify = self.cert_path
        else:
            # CERT_NONE for the chain, but the pinned fingerprint is checked on every
            # connection: a different certificate fails the handshake.
            session.verify = False
            session.mount(self.base_url + "/", _PinnedAdapter(self.cert_sha256))
        return session

    def rapi(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        timeout: float = 60,
    ) -> Any:
        """Sends one RAPI request and returns the decoded JSON answer; raises RapiError on >= 400.

        Writes answer with a job id (an int on Ganeti 3.x); see ``wait_for_job``.
        """
        response = self.session.request(
            method,
            self.base_url + path,
            data=None if body is None else json.dumps(body),
            params=params,
            timeout=timeout,
        )
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        if response.status_code >= 400:
            raise RapiError(method, path, response.status_code, payload)
        return payload

    def wait_for_job(self, job_id: int | str, timeout: float = 120) -> dict[str, Any]:
        """Polls ``/2/jobs/ID`` until the job ends; returns the job (check its ``status``)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.rapi("GET", f"/2/jobs/{job_id}")
            if job["status"] in JOB_FINAL_STATES:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"Ganeti job {job_id} still {job['status']} after {timeout} s")
            time.sleep(0.2)

    def remove_instance(self, name: str) -> None:
        """Remove an instance if it exists (tests clean up with it, even after a failure)."""
        try:
            self.rapi("GET", f"/2/instances/{name}")
        except RapiError as exc:
            if exc.status == 404:
                return
            raise
        job = self.wait_for_job(self.rapi("DELETE", f"/2/instances/{name}"))
        assert job["status"] == "success", f"could not remove {name}: {job['opresult']}"

    def gnt(self, *args: str, timeout: float = 300) -> str:
        """Runs a command (``gnt-instance``, ``list``, ...) inside the node; returns its stdout."""
        result = _run_script("exec", *args, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed in the Ganeti test node (exit {result.returncode}):\n"
                f"{result.stderr}{result.stdout}"
            )
        return result.stdout

    def stop(self) -> None:
        stop()


def instance_body(
    name: str,
    *,
    memory: int = 64,
    disk_template: str = "diskless",
    disks: list | None = None,
    nics: list | None = None,
    start: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """The body of ``POST /2/instances`` for a small test instance with the ``noop`` OS.

    ``nics`` defaults to one NIC with the cluster's defaults (bridged to the node's bridge);
    ``extra`` adds fields such as ``pnode``.
    """
    return {
        "__version__": 1,
        "mode": "create",
        "name": name,
        "disk_template": disk_template,
        "disks": [] if disks is None else disks,
        "nics": [{}] if nics is None else nics,
        # The noop OS's create script does nothing, so installing costs nothing.
        "os_type": "noop",
        "beparams": {"maxmem": memory, "minmem": memory, "vcpus": 1},
        "start": start,
        # Both default to True on Ganeti 3.0: the name would have to resolve in the node.
        "name_check": False,
        "ip_check": False,
        **extra,
    }


def start() -> GanetiTestbed:
    """Brings the test cluster up (or reuses it) and returns how to reach it."""
    try:
        result = _run_script("up", timeout=START_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"Ganeti test cluster could not be started: {exc}") from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"Ganeti test cluster could not be started: {SCRIPT} up exited "
            f"{result.returncode}:\n{result.stderr.strip()}"
        )
    try:
        fields = json.loads(result.stdout.strip().splitlines()[-1])
        return GanetiTestbed(**fields)
    except (IndexError, ValueError, TypeError) as exc:
        raise RuntimeError(
            f"Ganeti test cluster: unexpected output of {SCRIPT.name} up: {result.stdout!r}\n"
            f"{result.stderr}"
        ) from exc


def stop() -> None:
    """Stops the test cluster and removes its namespace and state directory."""
    result = _run_script("down", timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"Ganeti test cluster could not be stopped:\n{result.stderr}")


def _run_script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


class _PinnedAdapter(HTTPAdapter):
    """Makes urllib3 compare the server certificate's SHA-256 with a pinned value."""

    def __init__(self, sha256_hex: str, **kwargs: Any):
        self._fingerprint = sha256_hex
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._fingerprint
        super().init_poolmanager(*args, **kwargs)


def _cert_names_host(cert_path: str, host: str) -> bool:
    """Whether the certificate's subjectAltName (or, lacking one, its CN) names ``host``."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID, NameOID

    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        return host in names
    try:
        return ipaddress.ip_address(host) in san.get_values_for_type(x509.IPAddress)
    except ValueError:
        return host.lower() in (n.lower() for n in san.get_values_for_type(x509.DNSName))
