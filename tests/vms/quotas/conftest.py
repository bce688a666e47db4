"""The quota tests' cluster: a libvirt cluster with one node, and its default quota.

The personas (tests/personas.py) are made on this `cluster`: `creator` may create VMs on it,
`cluster_admin` administers it.
"""

import pytest

from clusters.models import Cluster, Node
from vms.models import Quota


@pytest.fixture
def cluster(db):
    cluster = Cluster.objects.create(name="Lab", slug="lab", kind="libvirt")
    Node.objects.create(
        cluster=cluster,
        name="host1",
        role="regular",
        libvirt_uri="qemu:///system",
        memory_total=16384,
        memory_free=16384,
        disk_total=102400,
        disk_free=102400,
        cpus=4,
    )
    return cluster


@pytest.fixture
def default_quota(cluster):
    """The cluster admits 1 GiB of running memory, 4 vCPUs, 10 GiB of disk and 3 VMs each."""
    return Quota.objects.create(cluster=cluster, memory=1024, vcpus=4, disk=10240, vms=3)
