"""Moving VMs between libvirt hosts: live migration with disk copy, and stopped VMs' moves."""

from __future__ import annotations

import libvirt

from .base import OperationFailed, Progress
from .libvirt_host import UNDEFINE_FLAGS, Host, domain_disks, find_domain, libvirt_error, translated
from .libvirt_parse import host_address
from .libvirt_storage import copy_volume, delete_quietly, ensure_pool, pool_volumes
from .libvirt_xml import POOL_NAME, move_vnc_listen, replace_disk_paths, volume_xml

LIVE_MIGRATION = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)
# The disks are not shared between hosts: copy them whole during the migration.
DISK_COPY = libvirt.VIR_MIGRATE_NON_SHARED_DISK


def move_vm(domain: libvirt.virDomain, source: Host, target: Host, progress: Progress) -> None:
    """Live-migrate a running VM, or move a stopped one's definition and disks."""
    name = domain.name()
    with translated(source.uri):
        running = bool(domain.isActive())
        volumes = pool_volumes(source, domain)
    try:
        if running:
            _migrate_live(domain, source, target, volumes, progress)
        else:
            _move_stopped(domain, source, target, volumes, progress)
    except libvirt.libvirtError as exc:
        raise OperationFailed(
            f"Moving {name} from {source.name} to {target.name} failed: "
            f"{libvirt_error(exc, source.uri)}"
        ) from exc
    for volume in volumes:
        delete_quietly(volume, source, progress)


def _migrate_live(
    domain: libvirt.virDomain,
    source: Host,
    target: Host,
    volumes: list[libvirt.virStorageVol],
    progress: Progress,
) -> None:
    name = domain.name()
    flags = LIVE_MIGRATION
    if domain_disks(domain):
        flags |= DISK_COPY
        ensure_pool(target.conn, progress)  # where libvirt creates the copies
    progress.log(f"Migrating {name} live from {source.name} to {target.name}.")
    domain.migrate3(target.conn, _console_follows(domain, source, target), flags)
    copied = f", with its {len(volumes)} disk(s) copied" if volumes else ""
    progress.log(f"Migrated {name} to {target.name}{copied}.")


def _console_follows(domain: libvirt.virDomain, source: Host, target: Host) -> dict[str, str]:
    """Migration parameters that move the VNC server to the target host's address.

    Both the running VM (DEST_XML) and its persistent definition (PERSIST_XML) are changed:
    without them QEMU would try to listen, on the target, on an address only the source has.
    """
    old, new = host_address(source.uri), host_address(target.uri)
    if old == new:
        return {}
    live = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    moved = move_vnc_listen(live, old, new)
    if moved == live:
        return {}
    params = {libvirt.VIR_MIGRATE_PARAM_DEST_XML: moved}
    if domain.isPersistent():
        flags = libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE
        params[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] = move_vnc_listen(
            domain.XMLDesc(flags | libvirt.VIR_DOMAIN_XML_MIGRATABLE), old, new
        )
    return params


def _move_stopped(
    domain: libvirt.virDomain,
    source: Host,
    target: Host,
    volumes: list[libvirt.virStorageVol],
    progress: Progress,
) -> None:
    """Define the VM on the target with copies of its volumes, then undefine it here."""
    name = domain.name()
    if find_domain(target.conn, name) is not None:
        raise OperationFailed(f"{target.name} already has a VM named {name!r}.")
    paths = {disk["source"] for disk in domain_disks(domain) if disk["source"]}
    outside = paths - {volume.path() for volume in volumes}
    if outside:
        raise OperationFailed(
            f"{name} is stopped and its disks {', '.join(sorted(outside))} are not in the "
            f"{POOL_NAME} pool, so ganetiweb cannot copy them; start it to migrate it live."
        )
    xml = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
    xml = move_vnc_listen(xml, host_address(source.uri), host_address(target.uri))
    copies: list[libvirt.virStorageVol] = []
    try:
        if volumes:
            pool = ensure_pool(target.conn, progress)
            new_paths = {}
            for volume in volumes:
                size = volume.info()[1]
                copy = pool.createXML(volume_xml(volume.name(), size, unit="bytes"), 0)
                copies.append(copy)
                copy_volume(source.conn, volume, target.conn, copy)
                new_paths[volume.path()] = copy.path()
                progress.log(f"Copied the disk {volume.name()} to {target.name}.")
            xml = replace_disk_paths(xml, new_paths)
        target.conn.defineXML(xml)
        progress.log(f"Defined {name} (stopped) on {target.name}.")
    except BaseException:
        for copy in copies:
            delete_quietly(copy, target, progress)
        raise
    domain.undefineFlags(UNDEFINE_FLAGS)
    progress.log(f"Removed {name} from {source.name}.")


def roomiest_host(hosts: list[Host], need: int, vm: str) -> Host:
    """The host with the most free memory, if that fits `need` MiB."""
    free = {host.uri: host.free_memory() for host in hosts}
    best = max(hosts, key=lambda host: free[host.uri])
    if free[best.uri] < need:
        raise OperationFailed(
            f"No other host has {need} MiB of memory free for {vm}; the most is "
            f"{free[best.uri]} MiB on {best.name}."
        )
    return best
