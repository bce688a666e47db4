"""The console page in headless Chromium: noVNC draws a real QEMU guest's screen through the
proxy, Ctrl-Alt-Del resets the guest, and a password-protected VNC server needs nothing from
the browser."""

import threading

import libvirt
import pytest
from django.urls import reverse

from clusters.backends.libvirt_host import _start_event_loop
from tests.fixtures_browser import log_in
from vms.sync import sync_cluster

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 60_000  # software-emulated QEMU and Chromium share two cores with the test run
CAD_TRIES = 10  # Ctrl-Alt-Del clicks before calling the reset missed (SeaBIOS may be busy)

# How many pixels of the console's canvas are lit (not near black): SeaBIOS draws text.
LIT_PIXELS = """() => {
    const canvas = document.querySelector("#console-screen canvas");
    if (!canvas || !canvas.width || !canvas.height) return 0;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i] + data[i + 1] + data[i + 2] > 150) lit++;
    }
    return lit;
}"""


def _open_console(page, live_site, vm):
    page.goto(f"{live_site.url}{reverse('vms:detail', args=[vm.cluster.slug, vm.name])}")
    page.click("main a:has-text('Console')")
    page.wait_for_selector("#console[data-console-state=connected]", timeout=WAIT_MS)
    page.wait_for_function(f"({LIT_PIXELS})() > 500", timeout=WAIT_MS)
    return page.evaluate(LIT_PIXELS)


def test_the_console_shows_a_qemu_vm_and_ctrl_alt_del_resets_it(
    live_site, page, screenshot, superuser, console_vm, libvirt_uri
):
    log_in(page, live_site, "root")

    lit = _open_console(page, live_site, console_vm)

    path = screenshot("console-seabios")
    assert lit > 500, f"the console's canvas is blank ({lit} lit pixels); see {path}"
    _start_event_loop()  # libvirt delivers domain events only with an event loop running
    events = libvirt.open(libvirt_uri)
    rebooted = threading.Event()
    callback = events.domainEventRegisterAny(
        events.lookupByName(console_vm.name),
        libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
        lambda *_args: rebooted.set(),
        None,
    )
    try:
        for _ in range(CAD_TRIES):
            page.click("#console-cad")
            if rebooted.wait(5):
                break
    finally:
        events.domainEventDeregisterAny(callback)
        events.close()
    assert rebooted.is_set(), "the guest did not reset after Ctrl-Alt-Del"
    page.wait_for_function(f"({LIT_PIXELS})() > 500", timeout=WAIT_MS)
    screenshot("console-after-ctrl-alt-del")
    assert page.get_attribute("#console", "data-console-state") == "connected"


def test_the_console_logs_in_to_a_password_protected_vnc_server(
    live_site, page, screenshot, superuser, password_vm
):
    log_in(page, live_site, "root")

    lit = _open_console(page, live_site, password_vm)

    path = screenshot("console-password-seabios")
    assert lit > 500, f"the console's canvas is blank ({lit} lit pixels); see {path}"
    assert "password" not in page.content().lower().split("</nav>", 1)[-1].split("<script")[0]


def test_the_console_says_when_the_vm_is_off(
    live_site, page, screenshot, superuser, console_vm, tiny_vm
):
    tiny_vm.destroy()
    assert sync_cluster(console_vm.cluster.pk).error == ""
    log_in(page, live_site, "root")

    page.goto(f"{live_site.url}{reverse('vms:console', args=['local', console_vm.name])}")

    page.wait_for_selector("#console-message:has-text('not running')", timeout=WAIT_MS)
    screenshot("console-vm-off")
    assert page.get_attribute("#console", "data-console-state") == "disconnected"
