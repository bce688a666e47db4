"""Placement of new VMs. Plain Python, no Django: it is tested and benchmarked alone.

Until the rebalancing work brings an htools-like score, placement is the rule Ganeti's users
expect from a cluster without an iallocator: the usable node with the most free memory that
fits the VM.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeRoom:
    name: str
    memory_free: int | None  # MiB; None when the node did not report it
    disk_free: int | None
    usable: bool = True  # False for offline, drained or missing nodes


def choose_node(nodes: list[NodeRoom], memory: int, disk: int = 0) -> NodeRoom | None:
    """The usable node with the most free memory that has room for the VM, or None."""
    fitting = [
        node
        for node in nodes
        if node.usable
        and node.memory_free is not None
        and node.memory_free >= memory
        and (disk == 0 or node.disk_free is None or node.disk_free >= disk)
    ]
    return max(fitting, key=lambda node: (node.memory_free, node.name), default=None)


def roomiest(nodes: list[NodeRoom]) -> NodeRoom | None:
    """The usable node with the most free memory, to say how close a refused VM came."""
    known = [n for n in nodes if n.usable and n.memory_free is not None]
    return max(known, key=lambda node: node.memory_free, default=None)
