"""XML that ganetiweb gives libvirt: domains, interfaces, its storage pool and volumes.

Pure functions, so what a VM is made of can be read (and tested) without a libvirtd.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 (we build XML here, and read libvirt's own)
from dataclasses import dataclass

from .base import NicSpec, VMSpec

#: The storage pool that holds the disks of the VMs ganetiweb creates, on every host.
POOL_NAME = "ganetiweb"
POOL_PATH = "/var/lib/libvirt/images/ganetiweb"

MiB = 1024 * 1024


@dataclass(frozen=True)
class DiskFile:
    """A disk of a new domain: its file (a volume of the pool) and its device name."""

    path: str
    target: str  # vda, vdb...


def disk_targets(count: int) -> list[str]:
    """virtio device names: vda ... vdz, then vdaa ..., as libvirt names them."""
    names = []
    for index in range(count):
        suffix = ""
        number = index
        while True:
            suffix = chr(ord("a") + number % 26) + suffix
            number = number // 26 - 1
            if number < 0:
                break
        names.append(f"vd{suffix}")
    return names


def volume_name(vm: str, index: int) -> str:
    """The volume of a VM's disk `index`: ``NAME-diskN.img``."""
    return f"{vm}-disk{index}.img"


def domain_xml(spec: VMSpec, disks: list[DiskFile], vnc_listen: str) -> str:
    """A persistent QEMU (software emulation) domain: memory, vCPUs, disks, NICs and VNC.

    VNC takes the first free port from 5900 up (autoport) on `vnc_listen`, the host's address
    as ganetiweb reaches it, so that the console can connect.
    """
    domain = ET.Element("domain", type="qemu")
    ET.SubElement(domain, "name").text = spec.name
    ET.SubElement(domain, "memory", unit="MiB").text = str(spec.memory)
    ET.SubElement(domain, "currentMemory", unit="MiB").text = str(spec.memory)
    ET.SubElement(domain, "vcpu", placement="static").text = str(spec.vcpus)
    os = ET.SubElement(domain, "os")
    ET.SubElement(os, "type", arch="x86_64", machine="pc").text = "hvm"
    ET.SubElement(os, "boot", dev="hd")
    features = ET.SubElement(domain, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(features, "apic")
    ET.SubElement(domain, "clock", offset="utc")
    ET.SubElement(domain, "on_poweroff").text = "destroy"
    ET.SubElement(domain, "on_reboot").text = "restart"
    ET.SubElement(domain, "on_crash").text = "destroy"
    devices = ET.SubElement(domain, "devices")
    for disk in disks:
        devices.append(disk_element(disk))
    for nic in spec.nics:
        devices.append(interface_element(nic))
    graphics = ET.SubElement(
        devices, "graphics", type="vnc", port="-1", autoport="yes", listen=vnc_listen
    )
    ET.SubElement(graphics, "listen", type="address", address=vnc_listen)
    video = ET.SubElement(devices, "video")
    ET.SubElement(video, "model", type="vga")
    ET.SubElement(devices, "memballoon", model="virtio")
    return ET.tostring(domain, encoding="unicode")


def disk_element(disk: DiskFile) -> ET.Element:
    element = ET.Element("disk", type="file", device="disk")
    ET.SubElement(element, "driver", name="qemu", type="raw")
    ET.SubElement(element, "source", file=disk.path)
    ET.SubElement(element, "target", dev=disk.target, bus="virtio")
    return element


def interface_element(nic: NicSpec) -> ET.Element:
    """A NIC on a libvirt network, or else on a host bridge; virtio; its MAC if given."""
    if nic.network:
        element = ET.Element("interface", type="network")
        ET.SubElement(element, "source", network=nic.network)
    else:
        element = ET.Element("interface", type="bridge")
        ET.SubElement(element, "source", bridge=nic.link)
    if nic.mac:
        ET.SubElement(element, "mac", address=nic.mac)
    ET.SubElement(element, "model", type="virtio")
    return element


def interface_xml(nic: NicSpec) -> str:
    return ET.tostring(interface_element(nic), encoding="unicode")


def pool_xml() -> str:
    """The directory pool that holds the disks of ganetiweb's VMs."""
    pool = ET.Element("pool", type="dir")
    ET.SubElement(pool, "name").text = POOL_NAME
    target = ET.SubElement(pool, "target")
    ET.SubElement(target, "path").text = POOL_PATH
    return ET.tostring(pool, encoding="unicode")


def volume_xml(name: str, size: int, unit: str = "MiB") -> str:
    """A raw (sparse) volume: it costs no space until written, and grows by truncation."""
    volume = ET.Element("volume")
    ET.SubElement(volume, "name").text = name
    ET.SubElement(volume, "allocation").text = "0"
    ET.SubElement(volume, "capacity", unit=unit).text = str(size)
    target = ET.SubElement(volume, "target")
    ET.SubElement(target, "format", type="raw")
    return ET.tostring(volume, encoding="unicode")


def interface_elements(xml: str) -> list[ET.Element]:
    """A domain's ``<interface>`` elements, in order (the NIC indexes)."""
    root = ET.fromstring(xml)  # noqa: S314 (libvirt's own XML)
    return list(root.iterfind("devices/interface"))


def element_xml(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def host_uuid(capabilities_xml: str) -> str:
    """The host's UUID from its capabilities: two URIs of one machine give the same."""
    root = ET.fromstring(capabilities_xml)  # noqa: S314 (libvirt's own XML)
    return root.findtext("host/uuid", "")


def interface_type(xml: str) -> str:
    """The type of a host interface (``ethernet``, ``bridge``, ``bond``...)."""
    return ET.fromstring(xml).get("type", "")  # noqa: S314 (libvirt's own XML)


def move_vnc_listen(xml: str, source: str, target: str) -> str:
    """A domain's XML with its VNC server moved from the address `source` to `target`.

    ganetiweb makes a VM's console listen on its host's address; a VM that migrates must
    listen on the new host's address, which the old one does not have (and the other way
    round). A console on another address (all addresses, a socket) is left as it is.
    """
    root = ET.fromstring(xml)  # noqa: S314 (libvirt's own XML)
    for graphics in root.iterfind("devices/graphics[@type='vnc']"):
        if graphics.get("listen") == source:
            graphics.set("listen", target)
        for listen in graphics.iterfind("listen[@type='address']"):
            if listen.get("address") == source:
                listen.set("address", target)
    return ET.tostring(root, encoding="unicode")


def replace_disk_paths(xml: str, paths: dict[str, str]) -> str:
    """A domain's XML with its disks' file paths replaced as `paths` says."""
    root = ET.fromstring(xml)  # noqa: S314 (libvirt's own XML)
    for source in root.iterfind("devices/disk/source"):
        path = source.get("file")
        if path in paths:
            source.set("file", paths[path])
    return ET.tostring(root, encoding="unicode")
