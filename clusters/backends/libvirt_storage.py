"""ganetiweb's storage on a libvirt host: the ``ganetiweb`` pool and the VMs' volumes in it."""

from __future__ import annotations

import contextlib

import libvirt

from .base import OperationFailed, Progress
from .libvirt_host import Host, domain_disks
from .libvirt_parse import MiB
from .libvirt_xml import POOL_NAME, POOL_PATH, pool_xml

STREAM_CHUNK = 4 * MiB


def ensure_pool(conn: libvirt.virConnect, progress: Progress) -> libvirt.virStoragePool:
    """The ganetiweb pool, defined (a directory, started at boot) and started if need be."""
    pool = find_pool(conn)
    if pool is None:
        pool = conn.storagePoolDefineXML(pool_xml(), 0)
        pool.setAutostart(1)
        progress.log(f"Defined the storage pool {POOL_NAME} ({POOL_PATH}).")
    if not pool.isActive():
        pool.build(0)  # makes the directory if it is missing
        pool.create(0)
        progress.log(f"Started the storage pool {POOL_NAME}.")
    return pool


def find_pool(conn: libvirt.virConnect) -> libvirt.virStoragePool | None:
    try:
        return conn.storagePoolLookupByName(POOL_NAME)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise
        return None


def pool_volumes(host: Host, domain: libvirt.virDomain) -> list[libvirt.virStorageVol]:
    """The VM's disks that are volumes of the ganetiweb pool."""
    volumes = []
    for disk in domain_disks(domain):
        volume = pool_volume_at(host.conn, disk["source"])
        if volume is not None:
            volumes.append(volume)
    return volumes


def pool_volume_at(conn: libvirt.virConnect, path: str) -> libvirt.virStorageVol | None:
    if not path:
        return None
    try:
        volume = conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return None
    return volume if volume.storagePoolLookupByVolume().name() == POOL_NAME else None


def delete_disk(host: Host, path: str, progress: Progress) -> None:
    volume = pool_volume_at(host.conn, path)
    if volume is None:
        progress.log(f"Kept the disk {path}: it is not in the {POOL_NAME} pool.")
        return
    volume.delete(0)
    progress.log(f"Deleted the disk {volume.name()}.")


def delete_quietly(volume: libvirt.virStorageVol, host: Host, progress: Progress) -> None:
    try:
        name = volume.name()
        volume.delete(0)
        progress.log(f"Deleted the disk {name} from {host.name}.")
    except libvirt.libvirtError as exc:
        progress.log(f"Could not delete a disk on {host.name}: {exc.get_error_message()}.")


def copy_volume(
    source: libvirt.virConnect,
    volume: libvirt.virStorageVol,
    target: libvirt.virConnect,
    copy: libvirt.virStorageVol,
) -> None:
    """Copy a volume's bytes into another volume (of the same size), on any two hosts."""
    size = volume.info()[1]
    download, upload = source.newStream(0), target.newStream(0)
    try:
        volume.download(download, 0, size, 0)
        copy.upload(upload, 0, size, 0)
        while chunk := download.recv(STREAM_CHUNK):
            if not isinstance(chunk, bytes):  # -2 means "try again" on non-blocking streams
                raise OperationFailed(f"Reading the volume {volume.name()} failed.")
            sent = 0
            while sent < len(chunk):  # a send may take only part of the chunk
                sent += upload.send(chunk[sent:])
        download.finish()
        upload.finish()
    except BaseException:
        for stream in (download, upload):
            with contextlib.suppress(libvirt.libvirtError):
                stream.abort()
        raise
