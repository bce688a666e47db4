"""Unit tests of the libvirt XML and stats parsing, on XML shaped like libvirt 9's live output."""

from __future__ import annotations

import pytest

from clusters.backends.base import MalformedAnswer
from clusters.backends.libvirt import (
    host_address,
    parse_domain_xml,
    parse_network_xml,
    vm_from_domain,
)

DOMAIN_XML = """<domain type='kvm' id='7'>
  <name>web1</name>
  <uuid>1f73b511-79f9-4068-9e36-7d527b595a9c</uuid>
  <description>the web server</description>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/web1.qcow2' index='2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/vg0/web1-data' index='1'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <source pool='default' volume='web1-logs.img'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:6b:3c:58'/>
      <source network='default' portid='0c6e' bridge='virbr0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source bridge='br0'/>
      <model type='e1000'/>
    </interface>
    <interface type='direct'>
      <mac address='52:54:00:dd:ee:ff'/>
      <source dev='eth1' mode='bridge'/>
    </interface>
    <graphics type='vnc' port='5903' autoport='yes' listen='0.0.0.0'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
  </devices>
</domain>
"""

STATS = {
    "state.state": 1,
    "state.reason": 1,
    "balloon.current": 1048576,
    "balloon.maximum": 2097152,
    "vcpu.current": 2,
    "vcpu.maximum": 4,
    "block.count": 3,
    "block.0.name": "vda",
    "block.0.path": "/var/lib/libvirt/images/web1.qcow2",
    "block.0.capacity": 10 * 1024**3,
    "block.1.name": "vdb",
    "block.1.capacity": 512 * 1024**2,
    "block.2.name": "sda",
}


def test_it_reads_name_uuid_memory_and_current_vcpus():
    domain = parse_domain_xml(DOMAIN_XML)

    assert (domain["name"], domain["uuid"]) == ("web1", "1f73b511-79f9-4068-9e36-7d527b595a9c")
    assert (domain["memory"], domain["current_memory"], domain["vcpus"]) == (2048, 1024, 2)
    assert domain["description"] == "the web server"


def test_it_lists_disks_with_their_sources_but_not_the_cdrom():
    disks = parse_domain_xml(DOMAIN_XML)["disks"]

    assert [(d["target"], d["source"], d["bus"]) for d in disks] == [
        ("vda", "/var/lib/libvirt/images/web1.qcow2", "virtio"),
        ("vdb", "/dev/vg0/web1-data", "virtio"),
        ("vdc", "default/web1-logs.img", "virtio"),
    ]


def test_it_reads_network_bridge_and_direct_nics():
    nics = parse_domain_xml(DOMAIN_XML)["nics"]

    assert nics == [
        {"type": "network", "mac": "52:54:00:6b:3c:58", "source": "virbr0",
         "network": "default", "model": "virtio", "target": "vnet3"},
        {"type": "bridge", "mac": "52:54:00:aa:bb:cc", "source": "br0",
         "network": "", "model": "e1000", "target": ""},
        {"type": "direct", "mac": "52:54:00:dd:ee:ff", "source": "eth1",
         "network": "", "model": "", "target": ""},
    ]  # fmt: skip


def test_it_reads_the_vnc_port_and_listen_address():
    assert parse_domain_xml(DOMAIN_XML)["vnc"] == {"port": 5903, "listen": "0.0.0.0"}  # noqa: S104


def test_a_stopped_domain_has_no_vnc_port_yet():
    xml = DOMAIN_XML.replace("port='5903'", "port='-1'")

    assert parse_domain_xml(xml)["vnc"]["port"] is None


def test_a_vnc_on_a_unix_socket_has_no_tcp_port():
    xml = DOMAIN_XML.replace(
        "<listen type='address' address='0.0.0.0'/>", "<listen type='socket' socket='/run/v.sock'/>"
    )

    assert parse_domain_xml(xml)["vnc"] == {"port": None, "listen": ""}


def test_a_domain_without_graphics_has_no_vnc():
    xml = DOMAIN_XML.split("<graphics")[0] + "</devices></domain>"

    assert parse_domain_xml(xml)["vnc"] is None


@pytest.mark.parametrize(
    ("element", "mib"),
    [
        ("<memory unit='KiB'>65536</memory>", 64),
        ("<memory>65536</memory>", 64),
        ("<memory unit='MiB'>512</memory>", 512),
        ("<memory unit='G'>2</memory>", 2048),
        ("<memory unit='bytes'>1073741824</memory>", 1024),
    ],
)
def test_it_converts_memory_units_to_mib(element, mib):
    xml = f"<domain><name>x</name>{element}<vcpu>1</vcpu></domain>"

    assert parse_domain_xml(xml)["memory"] == mib


def test_it_refuses_xml_that_does_not_parse():
    with pytest.raises(MalformedAnswer, match="does not parse"):
        parse_domain_xml("<domain><name>web1</domain>")


def test_it_refuses_xml_that_is_not_a_domain():
    with pytest.raises(MalformedAnswer, match="<network> where <domain> was expected"):
        parse_domain_xml("<network><name>default</name></network>")


# --- VMs from XML and stats


def test_a_running_domain_becomes_a_vm_with_live_memory_and_disk_sizes():
    vm = vm_from_domain(parse_domain_xml(DOMAIN_XML), STATS, "host1", "192.0.2.21")

    assert (vm.name, vm.primary_node) == ("web1", "host1")
    assert (vm.wanted_state, vm.actual_state, vm.status) == ("up", "running", "running")
    assert (vm.memory, vm.vcpus) == (1024, 2)
    assert [(d.name, d.size) for d in vm.disks] == [("vda", 10240), ("vdb", 512), ("vdc", 0)]
    assert [(n.mode, n.link, n.network, n.model) for n in vm.nics][0] == (
        "network", "virbr0", "default", "virtio",
    )  # fmt: skip
    # Listening on every address: reached on the host's own address.
    assert (vm.vnc_host, vm.vnc_port) == ("192.0.2.21", 5903)


def test_a_console_listening_on_one_address_keeps_it():
    xml = DOMAIN_XML.replace("0.0.0.0", "192.0.2.99")  # noqa: S104

    vm = vm_from_domain(parse_domain_xml(xml), STATS, "host1", "192.0.2.21")

    assert vm.vnc_host == "192.0.2.99"


@pytest.mark.parametrize(
    ("state", "actual", "wanted", "status"),
    [
        (0, "unknown", "down", "nostate"),
        (1, "running", "up", "running"),
        (2, "running", "up", "blocked"),
        (3, "paused", "up", "paused"),
        (4, "running", "up", "shutdown"),
        (5, "stopped", "down", "shutoff"),
        (6, "error", "down", "crashed"),
        (7, "paused", "up", "pmsuspended"),
    ],
)
def test_it_maps_each_libvirt_state(state, actual, wanted, status):
    vm = vm_from_domain(parse_domain_xml(DOMAIN_XML), {"state.state": state}, "h", "127.0.0.1")

    assert (vm.actual_state, vm.wanted_state, vm.status) == (actual, wanted, status)


def test_without_stats_it_falls_back_to_the_xml_memory_and_vcpus():
    vm = vm_from_domain(parse_domain_xml(DOMAIN_XML), {"state.state": 5}, "h", "127.0.0.1")

    assert (vm.memory, vm.vcpus) == (1024, 2)
    assert [d.size for d in vm.disks] == [0, 0, 0]


# --- networks and addresses


def test_it_reads_a_nat_network_with_ipv4_and_ipv6_subnets():
    xml = """<network connections='1'>
      <name>default</name>
      <uuid>8b5a4b0c-7cb5-4b4e-9b8d-1c2d3e4f5a6b</uuid>
      <forward mode='nat'><nat><port start='1024' end='65535'/></nat></forward>
      <bridge name='virbr0' stp='on' delay='0'/>
      <ip address='192.168.122.1' netmask='255.255.255.0'>
        <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
      </ip>
      <ip family='ipv6' address='2001:db8:ca2:2::1' prefix='64'/>
    </network>"""

    network = parse_network_xml(xml)

    assert (network.name, network.kind) == ("default", "libvirt")
    assert (network.subnet, network.gateway) == ("192.168.122.0/24", "192.168.122.1")
    assert (network.subnet6, network.gateway6) == ("2001:db8:ca2:2::/64", "2001:db8:ca2:2::1")


def test_an_isolated_network_without_addresses_has_no_subnet():
    network = parse_network_xml("<network><name>isolated</name><bridge name='virbr9'/></network>")

    assert (network.name, network.subnet, network.gateway) == ("isolated", "", "")


@pytest.mark.parametrize(
    ("uri", "address"),
    [
        ("qemu:///system", "127.0.0.1"),
        ("qemu+ssh://root@host1.example.com/system", "host1.example.com"),
        ("qemu+tcp://192.0.2.21:16509/system", "192.0.2.21"),
        ("qemu+tls://[2001:db8::21]/system", "2001:db8::21"),
    ],
)
def test_a_nodes_address_is_the_host_of_its_uri(uri, address):
    assert host_address(uri) == address
