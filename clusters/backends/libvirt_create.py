"""Creating a VM on a libvirt host: what is checked first, what is made, and its undoing."""

from __future__ import annotations

from dataclasses import dataclass, field

import libvirt

from .base import NicSpec, OperationFailed, Progress, VMSpec
from .libvirt_host import UNDEFINE_FLAGS, find_domain
from .libvirt_storage import ensure_pool, find_pool
from .libvirt_xml import POOL_NAME, DiskFile, disk_targets, interface_type, volume_name, volume_xml

DISK_TEMPLATES = ("file", "diskless")


@dataclass
class Made:
    """What a creation has made so far, to remove if it fails."""

    domain: libvirt.virDomain | None = None
    volumes: list[libvirt.virStorageVol] = field(default_factory=list)


def check_new_vm(conn: libvirt.virConnect, uri: str, spec: VMSpec) -> None:
    """Refuse, before anything is made, what would fail half-way."""
    if find_domain(conn, spec.name) is not None:
        raise OperationFailed(f"A VM named {spec.name!r} is already defined on {uri}.")
    if spec.disk_template not in DISK_TEMPLATES:
        raise OperationFailed(
            f"libvirt hosts take the disk templates {' and '.join(DISK_TEMPLATES)}, "
            f"not {spec.disk_template!r}."
        )
    if spec.disk_template == "diskless" and spec.disks:
        raise OperationFailed("A diskless VM has no disks; choose the file template for disks.")
    if spec.memory <= 0 or spec.vcpus <= 0 or any(size <= 0 for size in spec.disks):
        raise OperationFailed("Memory, vCPUs and disk sizes must be positive.")
    for nic in spec.nics:
        check_nic(conn, uri, nic)
    if spec.disks:
        pool = find_pool(conn)
        if pool is not None and pool.isActive():
            pool.refresh(0)
            taken = set(pool.listVolumes())
            for index in range(len(spec.disks)):
                name = volume_name(spec.name, index)
                if name in taken:
                    raise OperationFailed(
                        f"The storage pool {POOL_NAME} on {uri} already has a volume {name}; "
                        "remove it or choose another VM name."
                    )


def check_nic(conn: libvirt.virConnect, uri: str, nic: NicSpec) -> None:
    """A NIC needs a started libvirt network, or a host bridge, that exists on the host."""
    if nic.network:
        try:
            network = conn.networkLookupByName(nic.network)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
                raise
            raise OperationFailed(
                f"The libvirt host {uri} has no network {nic.network!r}."
            ) from None
        if not network.isActive():
            raise OperationFailed(
                f"The network {nic.network!r} on {uri} is not started; start it first."
            )
    elif nic.link:
        try:
            interface = conn.interfaceLookupByName(nic.link)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                return  # the host cannot list its interfaces; libvirt will tell at start
            if exc.get_error_code() != libvirt.VIR_ERR_NO_INTERFACE:
                raise
            raise OperationFailed(f"The libvirt host {uri} has no bridge {nic.link!r}.") from None
        if interface_type(interface.XMLDesc(0)) != "bridge":
            raise OperationFailed(f"{nic.link!r} on {uri} is not a bridge.")
    else:
        raise OperationFailed("A NIC on a libvirt host needs a network or a bridge (link).")


def make_disks(
    conn: libvirt.virConnect, spec: VMSpec, made: Made, progress: Progress
) -> list[DiskFile]:
    if not spec.disks:
        return []
    pool = ensure_pool(conn, progress)
    disks = []
    targets = disk_targets(len(spec.disks))
    for index, (size, target) in enumerate(zip(spec.disks, targets, strict=True)):
        volume = pool.createXML(volume_xml(volume_name(spec.name, index), size), 0)
        made.volumes.append(volume)
        progress.log(f"Created the disk {volume.name()} ({size} MiB) in the pool {POOL_NAME}.")
        disks.append(DiskFile(volume.path(), target))
    return disks


def remove_made(made: Made, progress: Progress) -> None:
    """Undo a creation that failed; a step that fails too is logged, not raised."""
    if made.domain is not None:
        try:
            if made.domain.isActive():
                made.domain.destroy()
            made.domain.undefineFlags(UNDEFINE_FLAGS)
            progress.log("Removed the half-made domain.")
        except libvirt.libvirtError as exc:
            progress.log(f"Could not remove the half-made domain: {exc.get_error_message()}.")
    for volume in made.volumes:
        try:
            name = volume.name()
            volume.delete(0)
            progress.log(f"Removed the half-made disk {name}.")
        except libvirt.libvirtError as exc:
            progress.log(f"Could not remove a half-made disk: {exc.get_error_message()}.")
