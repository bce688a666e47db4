"""A fake Ganeti RAPI for the sync benchmark: realistic bulk answers, served over HTTPS.

The answers carry the field set Ganeti 3.0 sends (GANETI-NOTES section 1), with filled KVM
hvparams on every instance: their size is what makes a real ``/2/instances?bulk=1`` slow to
decode. The data is deterministic (no randomness), so every run measures the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import random
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOMAIN = "example.org"
EPOCH = 1_700_000_000.0
MiB_PER_GiB = 1024
GROUP_UUID = "b08c0949-ef89-4d9b-9736-35afa0f62777"
OPERATING_SYSTEMS = ["debootstrap+default", "debootstrap+bookworm", "noop", "image+ubuntu"]
# name -> subnet; every instance has a NIC on vmnet, every other one a second on backend.
NETWORKS = {"vmnet": "10.64.0.0/16", "backend": "10.128.0.0/16"}
TEMPLATES = ("drbd",) * 6 + ("plain",) * 3 + ("diskless",)
# What Ganeti 3.0 fills in for a KVM instance (constants.HVC_DEFAULTS), sent with each one.
KVM_HVPARAMS = {
    "acpi": True, "boot_order": "disk", "cdrom_image_path": "", "cdrom2_image_path": "",
    "cdrom_disk_type": "", "cpu_cores": 0, "cpu_mask": "all", "cpu_sockets": 0,
    "cpu_threads": 0, "cpu_type": "", "disk_aio": "threads", "disk_cache": "default",
    "disk_type": "paravirtual", "floppy_image_path": "", "initrd_path": "", "kernel_args": "ro",
    "kernel_path": "", "keymap": "", "kvm_extra": "", "kvm_flag": "", "kvm_path": "/usr/bin/kvm",
    "machine_version": "", "mem_path": "", "migration_bandwidth": 32, "migration_caps": "",
    "migration_downtime": 30, "migration_mode": "live", "nic_type": "paravirtual",
    "reboot_behavior": "reboot", "root_path": "/dev/vda1", "security_domain": "",
    "security_model": "none", "serial_console": True, "serial_speed": 38400, "soundhw": "",
    "spice_bind": "", "spice_image_compression": "", "spice_ip_version": 0,
    "spice_jpeg_wan_compression": "", "spice_password_file": "",
    "spice_playback_compression": True, "spice_streaming_video": "",
    "spice_tls_ciphers": "HIGH:-DES:-3DES:-EXPORT:-DH", "spice_use_tls": False,
    "spice_use_vdagent": True, "spice_zlib_glz_wan_compression": "", "usb_devices": "",
    "usb_mouse": "", "use_chroot": False, "use_localtime": False, "user_shutdown": False,
    "vga": "", "vhost_net": False, "virtio_net_queues": 1, "vnc_bind_address": "0.0.0.0",  # noqa: S104
    "vnc_password_file": "", "vnc_tls": False, "vnc_x509_path": "", "vnc_x509_verify": False,
    "vnet_hdr": True,
}  # fmt: skip


def _uuid(kind: int, number: int) -> str:
    """A stable UUID-shaped string, unique per (kind, number)."""
    return f"{kind:08x}-0000-4000-8000-{number:012x}"


def node_name(index: int) -> str:
    return f"node{index + 1:03d}.{DOMAIN}"


def instance_name(index: int) -> str:
    return f"vm{index + 1:05d}.{DOMAIN}"


# --- the cluster's data


class RapiData:
    """A cluster's RAPI answers as decoded JSON; ``answers()`` encodes them for the server.

    Node 0 is the master, nodes 1-9 master candidates, the second last node is drained and the
    last one offline (its live figures are null and its running instances ERROR_nodeoffline).
    """

    def __init__(self, node_count: int, instance_count: int):
        self.node_count = node_count
        self.instances = [self._instance(i) for i in range(instance_count)]
        for raw in self.instances:
            if raw["pnode"] == node_name(node_count - 1) and raw["admin_state"] == "up":
                raw.update(status="ERROR_nodeoffline", oper_state=False, oper_ram=None)

    def answers(self) -> dict[str, bytes]:
        """Path -> body of every GET that ``GanetiBackend.fetch_inventory`` sends."""
        primaries: dict[str, list[dict]] = {node_name(i): [] for i in range(self.node_count)}
        secondaries: dict[str, list[str]] = {node_name(i): [] for i in range(self.node_count)}
        for raw in self.instances:
            primaries[raw["pnode"]].append(raw)
            for name in raw["snodes"]:
                secondaries[name].append(raw["name"])
        nodes = [
            self._node(i, primaries[node_name(i)], secondaries[node_name(i)])
            for i in range(self.node_count)
        ]
        bodies = {
            "/2/info": _info(),
            "/2/nodes": nodes,
            "/2/instances": self.instances,
            "/2/networks": [self._network(i, name) for i, name in enumerate(NETWORKS)],
            "/2/os": OPERATING_SYSTEMS,
        }
        return {path: json.dumps(body).encode() for path, body in bodies.items()}

    def flip_states(self, fraction: float) -> int:
        """Start or stop some instances, as admins do between two syncs; return how many.

        They are picked at random (with a fixed seed) so that they are spread over the nodes,
        whose free memory then changes too.
        """
        picker = random.Random(len(self.instances))  # noqa: S311 (test data, not a secret)
        count = max(1, round(len(self.instances) * fraction))
        flipped = [self.instances[i] for i in picker.sample(range(len(self.instances)), count)]
        for raw in flipped:
            start = raw["admin_state"] == "down"
            memory = raw["beparams"]["maxmem"]
            raw.update(
                admin_state="up" if start else "down",
                status="running" if start else "ADMIN_down",
                oper_state=start,
                oper_ram=memory if start else None,
                mtime=raw["mtime"] + 3600.0,
                serial_no=raw["serial_no"] + 1,
            )
        return len(flipped)

    def _instance(self, index: int) -> dict:
        # Primaries go round-robin, so index % node_count is the node; adding the round keeps
        # each node's instances varied (templates, sizes) instead of all alike.
        mix = index + index // self.node_count
        template = TEMPLATES[mix % len(TEMPLATES)]
        running = mix % 7 != 0
        memory = (512, 1024, 2048, 4096, 8192)[mix % 5]
        vcpus = (1, 2, 2, 4)[mix % 4]
        return {
            "name": instance_name(index),
            "admin_state": "up" if running else "down",
            "os": OPERATING_SYSTEMS[index % len(OPERATING_SYSTEMS)],
            "pnode": node_name(index % self.node_count),
            "snodes": self._secondaries(index, template),
            "disk_template": template,
            **_nics(index),
            "network_port": 11000 + index,
            **_disks(index, template),
            "beparams": {
                "minmem": memory,
                "maxmem": memory,
                "memory": memory,
                "vcpus": vcpus,
                "auto_balance": True,
                "always_failover": False,
                "spindle_use": 1,
            },  # fmt: skip
            "hvparams": KVM_HVPARAMS,
            "oper_state": running,
            "oper_ram": memory if running else None,
            "oper_vcpus": vcpus if running else None,
            "status": "running" if running else "ADMIN_down",
            "custom_hvparams": {},
            "custom_beparams": {"maxmem": memory, "minmem": memory, "vcpus": vcpus},
            "custom_nicparams": [{} for _ in range(_nic_count(index))],
            "custom_osparams": {},
            "ctime": EPOCH + index * 37.25,
            "mtime": EPOCH + index * 37.25 + 120.5,
            "uuid": _uuid(1, index),
            "serial_no": 3,
            "tags": ["env:prod", f"team:{index % 12}"] if index % 3 else [],
        }

    def _secondaries(self, index: int, template: str) -> list[str]:
        """DRBD's secondary: a different node, shifting every round so pairs vary."""
        count = self.node_count
        if template != "drbd" or count < 2:
            return []
        primary = index % count
        return [node_name((primary + 1 + (index // count) % (count - 1)) % count)]

    def _node(self, index: int, primaries: list[dict], secondaries: list[str]) -> dict:
        name = node_name(index)
        offline = index == self.node_count - 1
        used = sum(raw["oper_ram"] or 0 for raw in primaries)
        role = "M" if index == 0 else "C" if index < 10 else "R"
        role = "O" if offline else "D" if index == self.node_count - 2 else role
        live = {
            "mtotal": 256 * MiB_PER_GiB, "mnode": 2048, "mfree": 256 * MiB_PER_GiB - 2048 - used,
            "dtotal": 4 * 1024 * MiB_PER_GiB, "dfree": 3 * 1024 * MiB_PER_GiB - index,
            "ctotal": 64, "cnos": 1, "cnodes": 2, "csockets": 2,
        }  # fmt: skip
        return {
            "name": name,
            "offline": offline,
            "master_candidate": role in ("M", "C"),
            "drained": role == "D",
            **{key: None if offline else value for key, value in live.items()},
            "sptotal": None,
            "spfree": None,
            "pinst_cnt": len(primaries),
            "sinst_cnt": len(secondaries),
            "pip": f"192.0.2.{index % 250 + 1}" if index < 250 else f"198.18.{index // 250}.1",
            "sip": f"198.51.100.{index % 250 + 1}",
            "role": role,
            "pinst_list": [raw["name"] for raw in primaries],
            "sinst_list": secondaries,
            "master_capable": True,
            "vm_capable": True,
            "ndparams": {"exclusive_storage": False, "spindle_count": 1, "oob_program": ""},
            "group.uuid": GROUP_UUID,
            "ctime": EPOCH - 86400.0,
            "mtime": EPOCH,
            "uuid": _uuid(2, index),
            "serial_no": 7,
            "tags": [],
        }

    def _network(self, index: int, name: str) -> dict:
        subnet = ipaddress.ip_network(NETWORKS[name])
        members = [raw["name"] for raw in self.instances if name in raw["nic.networks.names"]]
        size = subnet.num_addresses
        return {
            "name": name,
            "network": str(subnet),
            "gateway": str(subnet.network_address + 1),
            "network6": None,
            "gateway6": None,
            "mac_prefix": None,
            "free_count": size - 3 - len(members),
            "reserved_count": 3 + len(members),
            "map": "X" * min(size, len(members) + 3) + "." * max(0, size - len(members) - 3),
            "group_list": [["default", "bridged", f"br-{name}"]],
            "inst_list": members,
            "external_reservations": str(subnet.network_address + 1),
            "tags": [],
            "uuid": _uuid(3, index),
            "serial_no": 1,
        }


def _info() -> dict:
    return {
        "name": f"cluster.{DOMAIN}",
        "master": node_name(0),
        "software_version": "3.0.2",
        "protocol_version": 3000000,
        "enabled_hypervisors": ["kvm"],
        "default_hypervisor": "kvm",
        "hvparams": {"kvm": KVM_HVPARAMS},
        "beparams": {"default": {"maxmem": 1024, "minmem": 1024, "vcpus": 1}},
        "enabled_disk_templates": ["drbd", "plain", "diskless"],
        "default_iallocator": "hail",
        "candidate_pool_size": 10,
        "master_netdev": "eth0",
        "volume_group_name": "xenvg",
        "file_storage_dir": "/srv/ganeti/file-storage",
        "mac_prefix": "aa:00:00",
        "ipolicy": {
            "minmax": [
                {
                    "min": {"memory-size": 128, "cpu-count": 1, "disk-size": 1024},
                    "max": {"memory-size": 32768, "cpu-count": 8, "disk-size": 1048576},
                }
            ],
            "std": {"memory-size": 1024, "cpu-count": 1, "disk-size": 10240},
            "vcpu-ratio": 4.0,
            "spindle-ratio": 32.0,
            "disk-templates": ["drbd", "plain", "diskless"],
        },  # fmt: skip
        "tags": [],
        "ctime": EPOCH - 10 * 86400.0,
        "mtime": EPOCH,
        "uuid": _uuid(4, 0),
    }


def _nic_count(index: int) -> int:
    return 2 if index % 2 else 1


def _nics(index: int) -> dict:
    """The parallel ``nic.*`` lists: vmnet always, backend on every other instance."""
    names = list(NETWORKS)[: _nic_count(index)]
    # Addresses repeat past 65,000 instances; the sync does not care.
    ips = [str(ipaddress.ip_network(NETWORKS[name])[10 + index % 65000]) for name in names]
    return {
        "nic.ips": ips,
        "nic.macs": [
            f"aa:00:00:{n:02x}:{index >> 8 & 255:02x}:{index & 255:02x}" for n in range(len(names))
        ],
        "nic.modes": ["bridged"] * len(names),
        "nic.uuids": [_uuid(5, index * 4 + n) for n in range(len(names))],
        "nic.names": [None] * len(names),
        "nic.links": [f"br-{name}" for name in names],
        "nic.networks": [_uuid(3, list(NETWORKS).index(name)) for name in names],
        "nic.networks.names": names,
        "nic.bridges": [f"br-{name}" for name in names],
        "nic.vlans": [""] * len(names),
    }


def _disks(index: int, template: str) -> dict:
    """The parallel ``disk.*`` lists: none when diskless, else a root disk and maybe data."""
    sizes = [] if template == "diskless" else [10240, 51200][: 1 + index % 2]
    return {
        "disk.sizes": sizes,
        "disk.spindles": [None] * len(sizes),
        "disk_usage": sum(sizes) + (128 * len(sizes) if template == "drbd" else 0),
        "disk.uuids": [_uuid(6, index * 4 + n) for n in range(len(sizes))],
        "disk.names": ["root", "data"][: len(sizes)],
    }


# --- serving it


class FakeRapi(ThreadingHTTPServer):
    """Answers ``GET path`` from ``answers`` on loopback HTTPS after a basic auth check."""

    daemon_threads = True

    def __init__(
        self, context: ssl.SSLContext, answers: dict[str, bytes], user: str, password: str
    ):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.answers = answers
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorization = f"Basic {credentials}"

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: FakeRapi
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' session expects
    # Headers and body go out in two writes; with Nagle's algorithm the body then waits for
    # the client's delayed ACK, adding 40 ms to every request, which no real RAPI does.
    disable_nagle_algorithm = True

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.headers.get("Authorization") != self.server.authorization:
            self._send(401, b'{"code": 401, "message": "Unauthorized", "explain": ""}')
            return
        body = self.server.answers.get(self.path.split("?")[0])
        if body is None:
            self._send(404, b'{"code": 404, "message": "Not found", "explain": ""}')
            return
        self._send(200, body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(
    answers: dict[str, bytes], directory: Path, user: str, password: str
) -> tuple[FakeRapi, str]:
    """Start a FakeRapi in a thread with a new self-signed certificate; return it and its pin.

    The certificate names ``ganeti.example.com`` and no address, like the one ``gnt-cluster
    init`` makes, so only the pinned fingerprint lets the client trust it.
    """
    cert, key = _self_signed_certificate("ganeti.example.com")
    cert_file, key_file = directory / "rapi.pem", directory / "rapi.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = FakeRapi(context, answers, user, password)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return server, fingerprint


def _self_signed_certificate(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert, key
