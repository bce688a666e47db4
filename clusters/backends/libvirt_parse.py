"""Turn libvirt's XML and statistics into the backend dataclasses.

Pure functions, no I/O, like ganeti_parse: the sync parses every domain of every host, so they
are tested and benchmarked without a libvirtd.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET  # noqa: S405 (the XML comes from the libvirtd we were given)
from typing import Any
from urllib.parse import urlsplit

import libvirt

from .base import DiskInfo, MalformedAnswer, NetworkInfo, NicInfo, VMInfo

MiB = 1024 * 1024

# libvirt state -> (our actual state, libvirt's word for it)
DOMAIN_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: ("unknown", "nostate"),
    libvirt.VIR_DOMAIN_RUNNING: ("running", "running"),
    libvirt.VIR_DOMAIN_BLOCKED: ("running", "blocked"),
    libvirt.VIR_DOMAIN_PAUSED: ("paused", "paused"),
    libvirt.VIR_DOMAIN_SHUTDOWN: ("running", "shutdown"),  # shutting down, still running
    libvirt.VIR_DOMAIN_SHUTOFF: ("stopped", "shutoff"),
    libvirt.VIR_DOMAIN_CRASHED: ("error", "crashed"),
    libvirt.VIR_DOMAIN_PMSUSPENDED: ("paused", "pmsuspended"),
}

LOCAL_ADDRESS = "127.0.0.1"
ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (read from XML, never bound)


def host_address(uri: str) -> str:
    """The host part of a URI; 127.0.0.1 for a local one such as ``qemu:///system``."""
    return urlsplit(uri).hostname or LOCAL_ADDRESS


# --- pure parsing


def parse_domain_xml(xml: str) -> dict[str, Any]:
    """The parts of a domain's XML the inventory uses, as plain values.

    Memory is in MiB. ``disks`` are the disk and lun devices (not CD-ROMs or floppies), each
    ``{target, source, device, bus}``; ``nics`` are ``{type, mac, source, network, model,
    target}``; ``vnc`` is ``{port, listen}`` (port None until the domain runs) or None.
    """
    root = _xml_root(xml, "domain")
    vcpu = root.find("vcpu")
    return {
        "name": root.findtext("name", ""),
        "uuid": root.findtext("uuid", ""),
        "description": root.findtext("description", ""),
        "memory": _mib(root.find("memory")),
        "current_memory": _mib(root.find("currentMemory")),
        "vcpus": _int(vcpu.get("current") or vcpu.text) if vcpu is not None else 0,
        "disks": [_disk(e) for e in root.iterfind("devices/disk") if _is_disk(e)],
        "nics": [_nic(element) for element in root.iterfind("devices/interface")],
        "vnc": _vnc(root.find("devices/graphics[@type='vnc']")),
        # Present only in XML read with VIR_DOMAIN_XML_SECURE.
        "vnc_password": _attr(root, "devices/graphics[@type='vnc']", "passwd"),
    }


def vm_from_domain(
    domain: dict[str, Any], stats: dict[str, Any], node_name: str, node_address: str
) -> VMInfo:
    """A VM from its parsed XML and its ``getAllDomainStats`` entry.

    Stats win where both know a value: they are live (balloon, current vCPUs). Disk sizes come
    only from stats (``block.N.capacity``, bytes); 0 when libvirt cannot tell.
    """
    actual, status = DOMAIN_STATES.get(stats.get("state.state"), ("unknown", "unknown"))
    balloon = stats.get("balloon.current") or stats.get("balloon.maximum")
    capacities = {
        stats.get(f"block.{i}.name"): stats.get(f"block.{i}.capacity")
        for i in range(stats.get("block.count", 0))
    }
    vnc = domain["vnc"]
    return VMInfo(
        name=domain["name"],
        uuid=domain["uuid"],
        primary_node=node_name,
        wanted_state="up" if actual in ("running", "paused") else "down",
        actual_state=actual,
        status=status,
        memory=balloon // 1024 if balloon else domain["current_memory"] or domain["memory"],
        vcpus=stats.get("vcpu.current") or domain["vcpus"],
        # The names ganetiweb's create form uses for libvirt VMs: file-backed disks or none.
        disk_template="file" if domain["disks"] else "diskless",
        disks=[
            DiskInfo(size=(capacities.get(disk["target"]) or 0) // MiB, name=disk["target"])
            for disk in domain["disks"]
        ],
        nics=[
            NicInfo(
                mac=nic["mac"],
                mode=nic["type"],
                link=nic["source"],
                network=nic["network"],
                name=nic["target"],
                model=nic["model"],
            )
            for nic in domain["nics"]
        ],
        vnc_host=_vnc_host(vnc, node_address),
        vnc_port=vnc["port"] if vnc else None,
        vnc_password=domain.get("vnc_password", ""),
    )


def parse_network_xml(xml: str) -> NetworkInfo:
    """A libvirt network: its IPv4 and IPv6 subnets come from ``<ip address netmask|prefix>``."""
    root = _xml_root(xml, "network")
    info = NetworkInfo(
        name=root.findtext("name", ""), kind="libvirt", uuid=root.findtext("uuid", "")
    )
    for ip in root.iterfind("ip"):
        address = ip.get("address")
        mask = ip.get("netmask") or ip.get("prefix")
        if not address:
            continue
        try:
            interface = ipaddress.ip_interface(f"{address}/{mask}" if mask else address)
        except ValueError:
            raise MalformedAnswer(
                f"libvirt answered the network {info.name!r} with the address {address}/{mask}."
            ) from None
        if interface.version == 4 and not info.subnet:
            info.subnet, info.gateway = str(interface.network), address
        elif interface.version == 6 and not info.subnet6:
            info.subnet6, info.gateway6 = str(interface.network), address
    return info


_UNITS = {
    "b": 1, "bytes": 1, "kb": 10**3, "k": 2**10, "kib": 2**10, "mb": 10**6, "m": 2**20,
    "mib": 2**20, "gb": 10**9, "g": 2**30, "gib": 2**30, "tb": 10**12, "t": 2**40, "tib": 2**40,
}  # fmt: skip


def _xml_root(xml: str, tag: str) -> ET.Element:
    try:
        root = ET.fromstring(xml)  # noqa: S314 (libvirt's own XML, see the import)
    except ET.ParseError as exc:
        raise MalformedAnswer(f"libvirt answered {tag} XML that does not parse: {exc}.") from None
    if root.tag != tag:
        raise MalformedAnswer(f"libvirt answered <{root.tag}> where <{tag}> was expected.")
    return root


def _mib(element: ET.Element | None) -> int:
    """A libvirt size element (``<memory unit='KiB'>65536</memory>``) in MiB; KiB by default."""
    if element is None:
        return 0
    factor = _UNITS.get(element.get("unit", "KiB").lower())
    if factor is None:
        raise MalformedAnswer(f"libvirt answered a size in the unknown unit {element.get('unit')}.")
    return _int(element.text) * factor // MiB


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        raise MalformedAnswer(f"libvirt answered {text!r} where a number was expected.") from None


def _is_disk(element: ET.Element) -> bool:
    return element.get("device", "disk") in ("disk", "lun")


def _disk(element: ET.Element) -> dict[str, str]:
    source = element.find("source")
    target = element.find("target")
    path = ""
    if source is not None:
        # file, block, dir or volume (pool/volume) or network (protocol name)
        path = (
            source.get("file")
            or source.get("dev")
            or source.get("dir")
            or source.get("name")
            or "/".join(filter(None, (source.get("pool"), source.get("volume"))))
        )
    return {
        "target": target.get("dev", "") if target is not None else "",
        "bus": target.get("bus", "") if target is not None else "",
        "source": path,
        "device": element.get("device", "disk"),
    }


def _nic(element: ET.Element) -> dict[str, str]:
    kind = element.get("type", "")
    source = element.find("source")
    attrs = source.attrib if source is not None else {}
    return {
        "type": kind,
        "mac": _attr(element, "mac", "address"),
        # A network's live XML also names its bridge; a bridge or direct NIC names its link.
        "source": attrs.get("bridge") or attrs.get("dev") or attrs.get("network", ""),
        # A running VM's NIC on a network of forward mode bridge reads type='bridge', and
        # still names its network.
        "network": attrs.get("network", ""),
        "model": _attr(element, "model", "type"),
        "target": _attr(element, "target", "dev"),
    }


def _vnc(element: ET.Element | None) -> dict[str, Any] | None:
    """``{port, listen}``; a socket-only listener has no TCP port, so port is None."""
    if element is None:
        return None
    listen = element.get("listen", "")
    listener = element.find("listen")
    if listener is not None:
        if listener.get("type") in ("socket", "none"):
            return {"port": None, "listen": ""}
        listen = listener.get("address") or listen
    port = _int(element.get("port", "-1"))
    return {"port": port if port > 0 else None, "listen": listen}


def _vnc_host(vnc: dict[str, Any] | None, node_address: str) -> str:
    if not vnc or vnc["port"] is None:
        return ""
    return node_address if vnc["listen"] in ANY_ADDRESS else vnc["listen"]


def _attr(element: ET.Element, child: str, name: str) -> str:
    found = element.find(child)
    return found.get(name, "") if found is not None else ""


def version_text(number: int) -> str:
    """libvirt's 9000000 -> "9.0.0"."""
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"
