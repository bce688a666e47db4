"""The libvirtd the tests get is real: it runs a QEMU guest with a VNC console and stops it."""

import re
import socket

import libvirt

from testbed.libvirt import vnc_endpoint

RFB_GREETING = re.compile(rb"RFB 003\.00\d\n")


def test_it_starts_a_tiny_diskless_qemu_vm(tiny_vm):
    state = tiny_vm.info()[0]
    assert state == libvirt.VIR_DOMAIN_RUNNING

    host, port = vnc_endpoint(tiny_vm)
    assert host == "127.0.0.1"
    assert port >= 5900  # autoport hands out 5900 first
    with socket.create_connection((host, port), timeout=10) as vnc:
        greeting = vnc.recv(12)
    assert RFB_GREETING.fullmatch(greeting), greeting


def test_it_reports_vm_shutdown(tiny_vm):
    tiny_vm.destroy()

    state = tiny_vm.info()[0]
    assert state == libvirt.VIR_DOMAIN_SHUTOFF
