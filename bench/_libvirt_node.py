"""A libvirt test-driver host for the sync benchmark: one XML file, opened as ``test:///PATH``.

libvirt's ``test`` driver is a fake hypervisor inside the client library. Given a file it
builds a host from ``<node>``: its ``<cpu>`` and ``<memory>`` (KiB), and every ``<domain>``,
which starts running unless ``<test:runstate>`` says otherwise (5 is VIR_DOMAIN_SHUTOFF).
Each ``libvirt.open`` reads the file again, so rewriting it changes what the next sync sees.
"""

from __future__ import annotations

import random
from pathlib import Path
from xml.sax.saxutils import quoteattr

TEST_NAMESPACE = "http://libvirt.org/schemas/domain/test/1.0"
RUNNING, SHUTOFF = 1, 5

NODE = """<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><nodes>2</nodes><sockets>2</sockets>
    <cores>16</cores><threads>2</threads></cpu>
  <memory>{memory_kib}</memory>
  <network>
    <name>default</name>
    <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
    <bridge name='virbr0'/>
    <forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'/>
  </network>
  <pool type='dir'>
    <name>default</name>
    <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
    <target><path>/var/lib/libvirt/images</path></target>
  </pool>
{domains}
</node>
"""

DOMAIN = """  <domain type='test' xmlns:test='{namespace}'>
    <name>{name}</name>
    <uuid>{uuid}</uuid>
    <memory unit='MiB'>{memory}</memory>
    <currentMemory unit='MiB'>{memory}</currentMemory>
    <vcpu>{vcpus}</vcpu>
    <os><type>hvm</type></os>
    <devices>
{disks}{nics}      <graphics type='vnc' port='{vnc_port}' autoport='no' listen='0.0.0.0'/>
    </devices>
    <test:runstate>{runstate}</test:runstate>
  </domain>"""

DISK = """      <disk type='file' device='disk'>
        <source file={path}/>
        <target dev='{target}' bus='virtio'/>
      </disk>
"""

NIC = """      <interface type='network'>
        <mac address='{mac}'/>
        <source network='default'/>
        <model type='virtio'/>
      </interface>
"""


class TestDriverHost:
    """``count`` domains in a file; every seventh is shut off, as on a host with spares."""

    def __init__(self, path: Path, count: int):
        self.path = path
        self.states = [SHUTOFF if index % 7 == 0 else RUNNING for index in range(count)]
        self.write()

    @property
    def uri(self) -> str:
        return f"test://{self.path.resolve()}"

    def write(self) -> None:
        domains = "\n".join(_domain(i, state) for i, state in enumerate(self.states))
        memory_kib = 512 * 1024 * 1024
        self.path.write_text(NODE.format(memory_kib=memory_kib, domains=domains))

    def flip_states(self, fraction: float) -> int:
        """Start or stop some domains and rewrite the file; return how many changed."""
        picker = random.Random(len(self.states))  # noqa: S311 (test data, not a secret)
        flipped = picker.sample(range(len(self.states)), max(1, round(len(self.states) * fraction)))
        for index in flipped:
            self.states[index] = RUNNING if self.states[index] == SHUTOFF else SHUTOFF
        self.write()
        return len(flipped)


def _domain(index: int, runstate: int) -> str:
    disks = "".join(
        DISK.format(
            path=quoteattr(f"/var/lib/libvirt/images/vm{index:04d}-{n}.qcow2"),
            target=f"vd{'ab'[n]}",
        )
        for n in range(1 + index % 2)
    )
    nics = "".join(
        NIC.format(mac=f"52:54:00:{n:02x}:{index >> 8 & 255:02x}:{index & 255:02x}")
        for n in range(1 + (index % 3 == 0))
    )
    return DOMAIN.format(
        namespace=TEST_NAMESPACE,
        name=f"vm{index + 1:04d}",
        uuid=f"{index:08x}-1111-4000-8000-000000000000",
        memory=(512, 1024, 2048, 4096)[index % 4],
        vcpus=(1, 2, 4)[index % 3],
        disks=disks,
        nics=nics,
        vnc_port=5900 + index,
        runstate=runstate,
    )
