"""Small builders of inventories and rows for the cluster tests."""

from datetime import UTC, datetime

from clusters.backends.base import ClusterInfo, DiskInfo, Inventory, NicInfo, NodeInfo, VMInfo
from clusters.models import Cluster


def make_cluster(name="alpha", kind="ganeti", **fields):
    """A cluster on this machine (marked so, as a superuser would): port 1 on loopback, where
    nothing listens, so a sync fails fast and sends nothing elsewhere; or the local libvirtd."""
    defaults = {
        "rapi_host": "127.0.0.1",
        "rapi_port": 1,
        "rapi_user": "gw",
        "rapi_password": "pw",
        "on_this_machine": True,
    }
    if kind == "libvirt":
        defaults = {"libvirt_uris": "qemu:///system", "on_this_machine": True}
    defaults.update(fields)
    return Cluster.objects.create(name=name, slug=name, kind=kind, **defaults)


def make_inventory(vm_count=3, node_count=2, **vm_overrides):
    nodes = [
        NodeInfo(
            name=f"node{i}",
            address=f"192.0.2.{10 + i}",
            role="master" if i == 1 else "regular",
            memory_total=32768,
            memory_free=16384,
            disk_total=1048576,
            disk_free=524288,
            cpus=8,
            primary_count=vm_count,
        )
        for i in range(1, node_count + 1)
    ]
    vms = [
        VMInfo(
            name=f"vm{i}.example.org",
            uuid=f"uuid-{i}",
            primary_node="node1",
            secondary_nodes=["node2"] if node_count > 1 else [],
            wanted_state="up",
            actual_state="running",
            status="running",
            memory=1024,
            vcpus=2,
            disk_template="drbd",
            disks=[DiskInfo(size=10240, name="root")],
            nics=[NicInfo(mac=f"aa:00:00:00:00:{i:02x}", ip="", mode="bridged", link="br0")],
            os="noop",
            tags=["env:test"],
            created_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
            modified_at=datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
            vnc_port=11000 + i,
            **vm_overrides,
        )
        for i in range(1, vm_count + 1)
    ]
    info = ClusterInfo(name="alpha.example.org", software_version="3.0.2")
    return Inventory(info=info, nodes=nodes, vms=vms, operating_systems=["noop"])
