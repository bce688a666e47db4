"""The console websocket against real QEMU guests of the test libvirtd, through the real stack.

Each test drives ganetiweb.asgi.application (origin check, sessions, auth, the consumer) with
channels' WebsocketCommunicator; the VNC servers are QEMU's own.
"""

import struct

import pytest
import redis
from channels.testing import WebsocketCommunicator
from django.conf import settings
from guardian.shortcuts import assign_perm, remove_perm

from audit.models import AuditAction, AuditEntry
from ganetiweb.asgi import application
from tests.asynchronous import run
from tests.vms.console.conftest import VNC_PASSWORD, logged_in, synced_vm, ticket_for
from vms.console import consumers
from vms.console.tickets import TICKET_KEY, issue_ticket, store_vnc_passwords

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = b"http://localhost"
WAIT = 20  # seconds to wait for an answer before calling the test failed


def headers(client, origin=ORIGIN):
    return [
        (b"origin", origin),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]


async def _open(path, client, origin=ORIGIN):
    communicator = WebsocketCommunicator(application, path, headers=headers(client, origin))
    connected, _ = await communicator.connect(timeout=WAIT)
    return communicator, connected


def is_refused(path, client, origin=ORIGIN) -> bool:
    """Whether the consumer refuses the websocket before accepting it."""

    async def attempt():
        communicator, connected = await _open(path, client, origin)
        await communicator.disconnect()
        return not connected

    return run(attempt)


def first_bytes(path, client) -> bytes:
    """The first frame the VM's side sends through an accepted websocket."""

    async def attempt():
        communicator, connected = await _open(path, client)
        assert connected, "the console websocket was refused"
        try:
            return await communicator.receive_from(timeout=WAIT)
        finally:
            await communicator.disconnect()

    return run(attempt)


def first_message(path, client) -> dict:
    """The first ASGI message of an accepted websocket (a close, when the session cannot start)."""

    async def attempt():
        communicator, connected = await _open(path, client)
        assert connected, "the console websocket was refused"
        output = await communicator.receive_output(timeout=WAIT)
        await communicator.disconnect()
        return output

    return run(attempt)


def test_a_valid_ticket_relays_the_rfb_greeting_of_a_qemu_vm(superuser, console_vm):
    client = logged_in(superuser)

    greeting = first_bytes(ticket_for(client, console_vm)["path"], client)

    assert greeting == b"RFB 003.008\n"


def test_it_refuses_without_a_ticket(superuser, console_vm):
    client = logged_in(superuser)

    assert is_refused(f"/ws/console/{console_vm.pk}/", client)
    assert is_refused(f"/ws/console/{console_vm.pk}/?ticket=made-up", client)


def test_it_refuses_an_expired_ticket(superuser, console_vm):
    client = logged_in(superuser)
    ticket = ticket_for(client, console_vm)
    store = redis.Redis.from_url(settings.CONSOLE_REDIS_URL)
    key = TICKET_KEY.format(ticket["ticket"])
    store.pexpire(key, 1)  # let Redis expire it now rather than in 30 s
    while store.exists(key):
        pass

    assert is_refused(ticket["path"], client)


def test_it_refuses_a_ticket_used_before(superuser, console_vm):
    client = logged_in(superuser)
    path = ticket_for(client, console_vm)["path"]
    assert first_bytes(path, client) == b"RFB 003.008\n"

    assert is_refused(path, client)


def test_it_refuses_another_users_ticket(superuser, outsider, console_vm):
    assign_perm("console", outsider, console_vm)
    path = ticket_for(logged_in(superuser), console_vm)["path"]

    assert is_refused(path, logged_in(outsider))


def test_it_refuses_a_ticket_from_another_session_of_the_same_user(superuser, console_vm):
    path = ticket_for(logged_in(superuser), console_vm)["path"]

    assert is_refused(path, logged_in(superuser))


def test_it_refuses_a_ticket_for_another_vm(superuser, console_vm, password_vm):
    client = logged_in(superuser)
    ticket = ticket_for(client, password_vm)["ticket"]

    assert is_refused(f"/ws/console/{console_vm.pk}/?ticket={ticket}", client)


def test_it_refuses_a_page_of_another_origin(superuser, console_vm):
    client = logged_in(superuser)

    assert is_refused(ticket_for(client, console_vm)["path"], client, b"http://evil.example")


def test_it_refuses_a_user_who_lost_the_permission_after_the_ticket(outsider, console_vm):
    assign_perm("console", outsider, console_vm)
    client = logged_in(outsider)
    path = ticket_for(client, console_vm)["path"]
    remove_perm("console", outsider, console_vm)

    assert is_refused(path, client)


def test_it_refuses_a_user_without_the_console_permission(outsider, console_vm):
    assign_perm("power", outsider, console_vm)
    client = logged_in(outsider)
    ticket = issue_ticket(outsider, console_vm, client.session.session_key)

    assert is_refused(f"/ws/console/{console_vm.pk}/?ticket={ticket}", client)


def test_revoking_the_permission_ends_the_session_and_the_audit_log_has_it(
    outsider, console_vm, settings
):
    settings.CONSOLE_RECHECK_SECONDS = 0.2
    assign_perm("console", outsider, console_vm)
    client = logged_in(outsider)
    path = ticket_for(client, console_vm)["path"]

    async def session():
        communicator, connected = await _open(path, client)
        assert connected
        assert await communicator.receive_from(timeout=WAIT) == b"RFB 003.008\n"
        await communicator.send_to(bytes_data=b"RFB 003.008\n")
        await remove_perm_async("console", outsider, console_vm)
        while True:  # the security types arrive first, then the close
            output = await communicator.receive_output(timeout=WAIT)
            if output["type"] == "websocket.close":
                await communicator.disconnect()
                return output["code"]

    assert run(session) == consumers.CLOSE_REVOKED
    entry = AuditEntry.objects.get(action=AuditAction.CONSOLE_SESSION)
    assert entry.actor == outsider and entry.object_id == str(console_vm.pk)
    assert entry.details["bytes_to_vm"] == 12
    assert entry.details["bytes_from_vm"] >= 12
    assert entry.details["started"] <= entry.details["ended"]


async def remove_perm_async(*args):
    from channels.db import database_sync_to_async

    await database_sync_to_async(remove_perm)(*args)


def test_a_vm_that_moved_ends_the_session_with_its_own_code(superuser, console_vm, settings):
    settings.CONSOLE_RECHECK_SECONDS = 0.2
    client = logged_in(superuser)
    path = ticket_for(client, console_vm)["path"]

    async def session():
        from channels.db import database_sync_to_async

        communicator, connected = await _open(path, client)
        assert connected
        assert await communicator.receive_from(timeout=WAIT) == b"RFB 003.008\n"
        console_vm.vnc_port += 1
        await database_sync_to_async(console_vm.save)()
        output = await communicator.receive_output(timeout=WAIT)
        await communicator.disconnect()
        return output

    assert run(session) == {"type": "websocket.close", "code": consumers.CLOSE_MOVED}


def rfb_login_as_browser(path, client):
    """Speak RFB as noVNC does through the proxy: version, security "None", ClientInit.

    Returns (security types offered, ServerInit's width and height).
    """

    async def attempt():
        communicator, connected = await _open(path, client)
        assert connected, "the console websocket was refused"
        try:
            buffer = b""

            async def read(count):
                nonlocal buffer
                while len(buffer) < count:
                    buffer += await communicator.receive_from(timeout=WAIT)
                data, buffer = buffer[:count], buffer[count:]
                return data

            assert await read(12) == b"RFB 003.008\n"
            await communicator.send_to(bytes_data=b"RFB 003.008\n")
            (count,) = await read(1)
            offered = list(await read(count))
            await communicator.send_to(bytes_data=bytes([1]))  # None
            assert await read(4) == b"\0\0\0\0"  # SecurityResult OK
            await communicator.send_to(bytes_data=b"\x01")  # ClientInit, shared
            width, height = struct.unpack("!HH", await read(4))
            return offered, (width, height)
        finally:
            await communicator.disconnect()

    return run(attempt)


def test_the_proxy_logs_in_to_a_password_protected_vnc_server_for_the_browser(
    superuser, password_vm
):
    client = logged_in(superuser)

    offered, (width, height) = rfb_login_as_browser(ticket_for(client, password_vm)["path"], client)

    assert offered == [1]  # "None": the browser never sees the VNC password
    assert width > 0 and height > 0


def test_the_proxy_logs_in_to_a_ganeti_vm_with_the_clusters_vnc_password(
    superuser, ganeti_password_vm
):
    client = logged_in(superuser)

    offered, (width, height) = rfb_login_as_browser(
        ticket_for(client, ganeti_password_vm)["path"], client
    )

    assert offered == [1]  # "None": the browser never sees the cluster's VNC password
    assert width > 0 and height > 0


def test_a_wrong_vnc_password_of_a_ganeti_cluster_ends_the_session_with_a_message_code(
    superuser, ganeti_password_vm
):
    cluster = ganeti_password_vm.cluster
    cluster.vnc_password = "wrong"
    cluster.save()
    client = logged_in(superuser)
    path = ticket_for(client, ganeti_password_vm)["path"]

    closed = {"type": "websocket.close", "code": consumers.CLOSE_VNC_AUTH}
    assert first_message(path, client) == closed


def test_without_its_password_a_protected_vnc_server_asks_the_browser(superuser, password_vm):
    redis.Redis.from_url(settings.CONSOLE_REDIS_URL).flushdb()
    client = logged_in(superuser)

    path = ticket_for(client, password_vm)["path"]

    # Relayed untouched: QEMU's own greeting, then QEMU offers VNC authentication (2).
    offered = run(_security_types, path, client)
    assert offered == [2]


async def _security_types(path, client):
    communicator, connected = await _open(path, client)
    assert connected
    try:
        assert await communicator.receive_from(timeout=WAIT) == b"RFB 003.008\n"
        await communicator.send_to(bytes_data=b"RFB 003.008\n")
        data = await communicator.receive_from(timeout=WAIT)
        return list(data[1 : 1 + data[0]])
    finally:
        await communicator.disconnect()


def test_a_wrong_stored_password_ends_the_session_with_a_message_code(superuser, password_vm):
    store_vnc_passwords({password_vm.pk: "wrong"})
    client = logged_in(superuser)
    path = ticket_for(client, password_vm)["path"]

    closed = {"type": "websocket.close", "code": consumers.CLOSE_VNC_AUTH}
    assert first_message(path, client) == closed


def test_the_sync_keeps_the_vnc_password_out_of_the_database(password_vm):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM vms_virtualmachine WHERE id = %s", [password_vm.pk])
        row = cursor.fetchone()
    assert VNC_PASSWORD not in repr(row)


def test_a_vm_stopped_since_the_ticket_ends_the_session_with_its_own_code(
    superuser, console_vm, tiny_vm
):
    client = logged_in(superuser)
    path = ticket_for(client, console_vm)["path"]
    tiny_vm.destroy()
    synced_vm(console_vm.cluster, console_vm.name)

    closed = {"type": "websocket.close", "code": consumers.CLOSE_VM_OFF}
    assert first_message(path, client) == closed
