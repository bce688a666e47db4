"""Build a backend for a cluster row. Only workers call backend methods."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings

from clusters.backends.base import GanetiConnection, LibvirtConnection
from clusters.backends.destinations import DestinationPolicy, own_services_of
from clusters.choices import CertificateTrust, ClusterKind
from clusters.crypto import CredentialsUnreadable, UnreadableSecret

if TYPE_CHECKING:
    from clusters.backends.ganeti import GanetiBackend
    from clusters.backends.libvirt import LibvirtBackend


def own_service_endpoints() -> list[tuple[str, int]]:
    """Where this deployment's own services listen (Redis, the database): no cluster's
    answer may make a worker or the console connect there."""
    urls: list[str] = [settings.REDIS_URL, settings.CONSOLE_REDIS_URL]
    urls += [str(queue.get("URL", "")) for queue in settings.RQ_QUEUES.values()]
    layers: dict[str, dict] = settings.CHANNEL_LAYERS
    for layer in layers.values():
        hosts: list = layer.get("CONFIG", {}).get("hosts", [])
        urls += [host for host in hosts if type(host) is str]
    endpoints = []
    for url in urls:
        parts = urlsplit(url)
        if parts.hostname:
            endpoints.append((parts.hostname, parts.port or 6379))
    for database in settings.DATABASES.values():
        host = database.get("HOST") or ""
        if host and not host.startswith("/"):  # a path is a Unix socket
            endpoints.append((host, int(database.get("PORT") or 5432)))
    return endpoints


@lru_cache(maxsize=2)
def _own_services(endpoints: tuple[tuple[str, int], ...]):
    return own_services_of(endpoints)


def destination_policy(cluster) -> DestinationPolicy:
    """Where connections for this cluster may go (clusters/backends/destinations.py)."""
    own = _own_services(tuple(own_service_endpoints()))
    blocked = tuple(
        ipaddress.ip_network(network, strict=False) for network in settings.CLUSTER_BLOCKED_NETWORKS
    )
    return DestinationPolicy(
        on_this_machine=cluster.on_this_machine, own_services=own, blocked_networks=blocked
    )


def connection_for(cluster) -> GanetiConnection | LibvirtConnection:
    policy = destination_policy(cluster)
    if cluster.kind == ClusterKind.LIBVIRT:
        return LibvirtConnection(
            uris=tuple(cluster.uri_list),
            policy=policy,
            allow_test_driver=settings.LIBVIRT_TEST_DRIVER,
        )
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
        deadline=settings.RAPI_REQUEST_DEADLINE,
        max_answer_bytes=settings.RAPI_MAX_ANSWER_MB * 1024 * 1024,
        policy=policy,
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
