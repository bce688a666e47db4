"""A console opened before a live migration: the page is told the VM moved, and reconnects to
the VM's VNC server on its new host.

Real pieces throughout: the two libvirt hosts, the application's console ticket view, the
Channels consumer (through the project's ASGI application, with the session cookie) and the
QEMU guest's own VNC server, whose RFB greeting is what the browser receives first. The
websocket side runs in an event loop of its own thread, as the ASGI server would run it, while
the test drives the forms and the worker as the other tests do; so the database must be
committed for real (transaction=True).
"""

import asyncio
import threading
from collections.abc import Iterator

import pytest
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from ganetiweb.asgi import application
from vms.console.consumers import CLOSE_MOVED

from .test_libvirt_migration import claim, nodes, register_both_hosts, row, running_on

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 60  # seconds to wait for a frame: a bound on a hang, not a timed assertion


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in its own thread, for the websocket and the consumer."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def console_settings(settings, test_queues):
    settings.CONSOLE_REDIS_URL = test_queues
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {"hosts": [test_queues]}}}
    settings.CONSOLE_RECHECK_SECONDS = 0.2


class Console:
    """The console page's websocket, as its script opens it: a ticket, then the socket."""

    def __init__(self, app, vm, loop):
        self.app, self.vm, self.loop = app, vm, loop

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(WAIT + 10)

    def open(self) -> bytes:
        """Connect with a new ticket; return the first bytes the VM's VNC server sent."""
        url = reverse("vms:console_ticket", args=[self.vm.cluster.slug, self.vm.name])
        response = self.app.post(url)
        assert response.status_code == 200, response.content
        cookie = f"sessionid={self.app.client.cookies['sessionid'].value}"
        self.socket = WebsocketCommunicator(
            application,
            response.json()["path"],
            headers=[(b"cookie", cookie.encode()), (b"origin", b"http://127.0.0.1")],
            subprotocols=["binary"],
        )
        connected, _ = self._run(self.socket.connect(WAIT))
        assert connected, "the console websocket was refused"
        return self._run(self.socket.receive_from(WAIT))

    def closed_with(self) -> int:
        """Wait for the server to close the socket; return the close code."""
        while True:
            message = self._run(self.socket.receive_output(WAIT))
            if message["type"] == "websocket.close":
                return message.get("code")

    def close(self):
        self._run(self.socket.disconnect())


def test_a_console_open_before_a_live_migration_reconnects_to_the_vm_on_its_new_host(
    app, libvirt_uri, libvirt_host2, libvirt_conn, libvirt_conn2, vm_prefix, loop, console_settings
):
    cluster = register_both_hosts(app, libvirt_uri, libvirt_host2)
    here, there = nodes(cluster, libvirt_conn, libvirt_conn2)
    name = f"{vm_prefix}console"
    app.create(cluster, name, "diskless", memory=64, os=None, placement=here.name)
    claim(libvirt_conn, name)
    vm = row(cluster, name)
    assert (vm.primary_node, vm.vnc_host) == (here, "127.0.0.1")

    console = Console(app, vm, loop)
    assert console.open().startswith(b"RFB 00"), "no VNC greeting from the VM on its first host"

    app.act(vm, "migrate", target_node=there.name)
    vm = row(cluster, name)
    assert running_on(libvirt_conn2, name)
    assert (vm.primary_node, vm.vnc_host) == (there, libvirt_host2.address)

    # The consumer notices the new endpoint and tells the page, which asks for a new ticket.
    assert console.closed_with() == CLOSE_MOVED
    console = Console(app, vm, loop)
    assert console.open().startswith(b"RFB 00"), "no VNC greeting from the VM on its new host"
    console.close()
