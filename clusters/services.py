"""Build a backend for a cluster row. Only workers call backend methods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clusters.backends.base import GanetiConnection, LibvirtConnection
from clusters.choices import CertificateTrust, ClusterKind
from clusters.crypto import CredentialsUnreadable, UnreadableSecret

if TYPE_CHECKING:
    from clusters.backends.ganeti import GanetiBackend
    from clusters.backends.libvirt import LibvirtBackend


def connection_for(cluster) -> GanetiConnection | LibvirtConnection:
    if cluster.kind == ClusterKind.LIBVIRT:
        return LibvirtConnection(uris=tuple(cluster.uri_list))
    if isinstance(cluster.rapi_password, UnreadableSecret):
        raise CredentialsUnreadable()
    trust_ca = cluster.certificate_trust == CertificateTrust.CA
    return GanetiConnection(
        host=cluster.rapi_host,
        port=cluster.rapi_port,
        username=cluster.rapi_user,
        password=cluster.rapi_password,
        ca_bundle_pem=cluster.ca_bundle if trust_ca else "",
        pinned_fingerprint="" if trust_ca else cluster.pinned_fingerprint,
    )


def backend_for(cluster) -> GanetiBackend | LibvirtBackend:
    connection = connection_for(cluster)
    # Each backend is imported when used: the web process, which never calls a backend, does
    # not load libvirt or urllib3; workers import both once before forking
    # (settings.JOB_PRELOAD_MODULES).
    if isinstance(connection, LibvirtConnection):
        # Loads libvirt (see above).
        from clusters.backends.libvirt import LibvirtBackend

        return LibvirtBackend(connection)
    # Loads requests and urllib3 (see above).
    from clusters.backends.ganeti import GanetiBackend

    return GanetiBackend(connection)
