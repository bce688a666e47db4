"""The VNC console: a websocket relayed to the VM's VNC server, after a ticket and a permission.

The browser's noVNC connects to ws/console/<vm id>/?ticket=... (see vms/console_views.py for
the ticket). The consumer refuses before accepting unless the ticket is this user's, for this
VM and this session, and the user still holds `console` on the VM. The VNC endpoint comes from
the database (filled by the inventory sync), never from the browser.

After the accept, one task per direction relays bytes: the consumer's own task writes the
browser's frames to the VM and waits for the socket to drain (so a slow VM holds the browser
back), a second task reads the VM and sends to the browser, and a third re-reads the
permission and the endpoint every CONSOLE_RECHECK_SECONDS: a revoked permission or a VM that
moved or stopped ends the session with a close code that the page turns into a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from audit.log import record
from audit.models import AuditAction
from clusters.backends.base import BackendError
from clusters.backends.destinations import ForbiddenDestination, is_loopback, parse_address
from clusters.choices import ClusterKind
from clusters.services import destination_policy
from jobs.models import Job
from vms.choices import ActualState
from vms.console import rfb
from vms.console.tickets import redeem_ticket, vnc_password
from vms.models import VirtualMachine
from vms.operations import JobKind

SERVER_SEND = "ganetiweb.server_send"  # the ASGI server's send, kept by ganetiweb/asgi.py

logger = logging.getLogger(__name__)

# Close codes after the accept; the console page shows a message for each (console_views.py).
CLOSE_ENDED = 4000  # the VNC server closed the connection
CLOSE_REVOKED = 4001  # the user lost the console permission
CLOSE_MOVED = 4002  # the VM now runs elsewhere: the page may reconnect
CLOSE_VM_OFF = 4003  # the VM is not running, or has no VNC console
CLOSE_UNREACHABLE = 4004  # the node's VNC port does not answer
CLOSE_VNC_AUTH = 4005  # the VNC server refused the stored password, or wants another one
CLOSE_LOOPBACK_ONLY = 4006  # VNC listens on the loopback address of a node that is not this one
CLOSE_FORBIDDEN = 4007  # the VNC address is one ganetiweb must not connect to (destinations.py)
CONNECT_TIMEOUT = 10  # seconds to reach a VM's VNC port
MOVE_SETTLE_CHECKS = 5  # access checks after a move's job for the row to show the new node
READ_CHUNK = 256 * 1024  # what one websocket frame carries at most from the VM


@dataclass(frozen=True)
class Access:
    vm: VirtualMachine | None  # None: no `console` permission (or no such VM)
    endpoint: tuple[str, int] | None  # None: not running, or no VNC console

    @property
    def allowed(self):
        return self.vm is not None


def _is_loopback(host: str) -> bool:
    """A loopback address written plainly (no DNS here: the ticket page calls this); other
    spellings are caught when the consumer resolves the address (`resolve_vnc`)."""
    if host == "localhost":
        return True
    try:
        return is_loopback(parse_address(host))
    except ValueError:
        return False


def console_refusal(vm: VirtualMachine) -> int | None:
    """Why the VM's console cannot be reached now (a close code), or None when it can."""
    if vm.missing or vm.actual_state != ActualState.RUNNING:
        return CLOSE_VM_OFF
    if not vm.vnc_host or not vm.vnc_port:
        return CLOSE_VM_OFF
    # A VNC server bound to 127.0.0.1 on another machine is out of reach, and connecting to
    # 127.0.0.1 here would reach whatever listens on this machine instead.
    node_address = vm.primary_node.address if vm.primary_node else ""
    if _is_loopback(vm.vnc_host) and not (
        vm.cluster.on_this_machine and _is_loopback(node_address)
    ):
        return CLOSE_LOOPBACK_ONLY
    return None


def resolve_vnc(vm: VirtualMachine, host: str, port: int) -> tuple[str | None, int | None]:
    """The address to connect to for the VM's VNC server, resolved once and checked against
    the cluster's destination policy, or (None, close code).

    The address comes from the cluster (RAPI's vnc_bind_address, a domain's XML), so a
    hostile cluster picks it: 127.1 or ::ffff:127.0.0.1 would relay the browser's bytes to
    this machine's Redis. A loopback address is refused unless a superuser marked the
    cluster as running on this machine; this deployment's own services always are."""
    policy = destination_policy(vm.cluster)
    try:
        return policy.resolve(host, port)[0], None
    except ForbiddenDestination as exc:
        logger.warning("Console of VM %s refused: %s", vm.pk, exc)
        return None, CLOSE_LOOPBACK_ONLY if exc.loopback else CLOSE_FORBIDDEN
    except BackendError as exc:
        logger.info("Console of VM %s: %s", vm.pk, exc)
        return None, CLOSE_UNREACHABLE


def vnc_endpoint(vm: VirtualMachine) -> tuple[str, int] | None:
    """Where the VM's VNC server listens, as the last sync saw it; None when it cannot be used."""
    if console_refusal(vm) is not None:
        return None
    return vm.vnc_host, vm.vnc_port


def _moving(vm_id: int) -> bool:
    """Whether a migration or failover of the VM is queued or running."""
    moves = (JobKind.MIGRATE, JobKind.FAILOVER)
    return Job.objects.filter(vm_id=vm_id, kind__in=moves).unfinished().exists()


def read_access(user, vm_id: int) -> Access:
    vm = (
        VirtualMachine.objects.visible_to(user, "console")
        .select_related("cluster", "primary_node")
        .filter(pk=vm_id)
        .first()
    )
    return Access(vm=vm, endpoint=vnc_endpoint(vm) if vm else None)


class ConsoleConsumer(AsyncWebsocketConsumer):
    started = None
    writer = None

    async def __call__(self, scope, receive, send):
        # The console talks to no other consumer, so it needs no channel layer (no Redis
        # subscription per session), and AsyncConsumer's wait on both the browser and the layer
        # (asyncio.wait, a new future per message) becomes one await per message.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        # Relayed frames go to the server's own send: Channels' session middleware wraps `send`
        # to save the session on HTTP responses, and for a websocket frame only reads the lazy
        # session twice, 6 us a frame (ganetiweb/asgi.py keeps the server's send in the scope).
        self.relay_send = scope.get(SERVER_SEND, send)
        try:
            while True:
                message = await receive()
                # Channels closes stale database connections before each message, a hop to a
                # thread and back; relayed frames touch no database, so they skip it.
                if message["type"] == "websocket.receive":
                    await self.receive(message.get("text"), message.get("bytes"))
                else:
                    await self.dispatch(message)
        except StopConsumer:
            pass

    async def connect(self):
        self.vm_id = self.scope["url_route"]["kwargs"]["vm_id"]
        self.user = self.scope["user"]
        self.tasks = []
        self.bytes_to_vm = self.bytes_from_vm = 0
        self.browser_handshake = None
        if not await self._ticket_is_valid():
            await self.close()
            return
        access = await database_sync_to_async(read_access)(self.user, self.vm_id)
        if not access.allowed:
            await self.close()
            return
        self.vm = access.vm
        subprotocols = self.scope.get("subprotocols") or []
        await self.accept("binary" if "binary" in subprotocols else None)
        self.started = timezone.now()
        self.endpoint = access.endpoint
        if self.endpoint is None:
            await self.close(code=console_refusal(self.vm))
            return
        code = await self._open_vnc()
        if code is not None:
            await self.close(code=code)
            return
        self.tasks = [
            asyncio.create_task(self._relay_from_vm()),
            asyncio.create_task(self._watch_access()),
        ]

    async def _ticket_is_valid(self) -> bool:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ticket = await redeem_ticket((query.get("ticket") or [""])[0])
        session = self.scope.get("session")
        session_key = session.session_key if session is not None else None
        return (
            ticket is not None
            and self.user.is_authenticated
            and ticket.user_id == self.user.pk
            and ticket.vm_id == self.vm_id
            and bool(session_key)
            and ticket.session_key == session_key
        )

    async def _open_vnc(self) -> int | None:
        """Connect to the VM's VNC server (and log in to it); a close code if that failed."""
        host, port = self.endpoint
        address, refusal = await asyncio.to_thread(resolve_vnc, self.vm, host, port)
        if address is None:
            return refusal
        try:
            reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(address, port), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError) as exc:
            logger.info("Console of VM %s: %s:%s does not answer: %s", self.vm_id, host, port, exc)
            return CLOSE_UNREACHABLE
        self.reader = reader
        try:
            destination_policy(self.vm.cluster).check_connected(
                self.writer.get_extra_info("socket"), host
            )
        except ForbiddenDestination as exc:
            logger.warning("Console of VM %s refused: %s", self.vm_id, exc)
            return CLOSE_FORBIDDEN
        if self.vm.cluster.kind == ClusterKind.LIBVIRT:
            password = await vnc_password(self.vm_id)  # per VM, as the last sync read it
        else:
            password = self.vm.cluster.vnc_password  # Ganeti: one vnc_password_file per cluster
        if not password:
            return None  # the browser and the VM negotiate security between them
        try:
            await asyncio.wait_for(
                rfb.authenticate_to_server(reader, self.writer, password), CONNECT_TIMEOUT
            )
        except (rfb.HandshakeError, TimeoutError, OSError) as exc:
            logger.info("Console of VM %s: VNC handshake failed: %s", self.vm_id, exc)
            return CLOSE_VNC_AUTH
        self.browser_handshake = rfb.BrowserHandshake()
        await self.send(bytes_data=self.browser_handshake.take_outgoing())
        return None

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is None or not self.tasks:
            return  # noVNC sends only binary frames
        handshake = self.browser_handshake
        if handshake is not None and not handshake.done:
            try:
                handshake.feed(bytes_data)
            except rfb.HandshakeError:
                await self.close(code=CLOSE_VNC_AUTH)
                return
            if reply := handshake.take_outgoing():
                await self.send(bytes_data=reply)
            bytes_data = handshake.rest if handshake.done else b""
            if not bytes_data:
                return
        if self.writer.is_closing():
            return  # the VM side ended; _relay_from_vm closes the websocket
        self.writer.write(bytes_data)
        self.bytes_to_vm += len(bytes_data)
        try:
            await self.writer.drain()  # back-pressure: the next frame waits for the VM
        except (OSError, ConnectionError):
            await self.close(code=CLOSE_ENDED)

    async def _relay_from_vm(self):
        try:
            while data := await self.reader.read(READ_CHUNK):
                self.bytes_from_vm += len(data)
                await self.relay_send({"type": "websocket.send", "bytes": data})
        except (OSError, ConnectionError):
            pass
        await self.close(code=await self._why_vnc_ended())

    async def _why_vnc_ended(self) -> int:
        """MOVED when the VNC server closed because the VM moved, else ENDED.

        A live migration ends the old node's VNC server before the inventory knows the new
        endpoint: while a move of this VM runs, wait for it, then for the row to show where
        the VM went (a few checks at most).
        """
        if await self._moved():
            return CLOSE_MOVED
        if not await database_sync_to_async(_moving)(self.vm_id):
            return CLOSE_ENDED
        while await database_sync_to_async(_moving)(self.vm_id):
            await asyncio.sleep(settings.CONSOLE_RECHECK_SECONDS)
        for _ in range(MOVE_SETTLE_CHECKS):
            if await self._moved():
                return CLOSE_MOVED
            await asyncio.sleep(settings.CONSOLE_RECHECK_SECONDS)
        return CLOSE_ENDED

    async def _moved(self) -> bool:
        access = await database_sync_to_async(read_access)(self.user, self.vm_id)
        return access.endpoint is not None and access.endpoint != self.endpoint

    async def _watch_access(self):
        while True:
            await asyncio.sleep(settings.CONSOLE_RECHECK_SECONDS)
            access = await database_sync_to_async(read_access)(self.user, self.vm_id)
            if not access.allowed:
                await self.close(code=CLOSE_REVOKED)
                return
            if access.endpoint != self.endpoint:
                moved = access.endpoint is not None
                await self.close(code=CLOSE_MOVED if moved else console_refusal(access.vm))
                return

    async def disconnect(self, code):
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self.writer.wait_closed()
            self.writer = None
        if self.started is not None:
            started, self.started = self.started, None
            await database_sync_to_async(record)(
                self.user,
                AuditAction.CONSOLE_SESSION,
                self.vm,
                started=started.isoformat(),
                ended=timezone.now().isoformat(),
                bytes_to_vm=self.bytes_to_vm,
                bytes_from_vm=self.bytes_from_vm,
            )
