"""A hostile cluster naming a VNC address on this machine, to make the console proxy relay the
browser's bytes to a local service such as Redis (issue 14, critical).

The target is a real listener on 127.0.0.1 that counts connections; the websocket goes
through the real ASGI stack (tests/vms/console/test_consumer.py's helpers).
"""

import pytest

from clusters.models import Node
from tests.clusters.factories import make_cluster
from tests.security.hostile import Listener
from tests.vms.console.conftest import logged_in, ticket_for
from tests.vms.console.test_consumer import first_bytes, first_message
from vms.console import consumers
from vms.models import VirtualMachine

pytestmark = pytest.mark.django_db(transaction=True)

REFUSALS = {consumers.CLOSE_LOOPBACK_ONLY, consumers.CLOSE_FORBIDDEN}


@pytest.fixture
def listener():
    with Listener() as server:
        yield server


def console_vm(vnc_host, vnc_port, on_this_machine=False, node_address="192.0.2.30"):
    """A running VM as a sync of the cluster would write it, with the VNC address it gave."""
    cluster = make_cluster("far", on_this_machine=on_this_machine)
    node = Node.objects.create(cluster=cluster, name="node1", address=node_address, role="master")
    return VirtualMachine.objects.create(
        cluster=cluster,
        name="inst1.example.org",
        primary_node=node,
        actual_state="running",
        wanted_state="up",
        memory=64,
        vcpus=1,
        vnc_host=vnc_host,
        vnc_port=vnc_port,
    )


@pytest.mark.parametrize(
    "spelling",
    ["127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "::ffff:127.0.0.1", "localhost", "0.0.0.0"],  # noqa: S104
)
def test_a_vnc_address_on_this_machine_is_refused_in_every_spelling(superuser, listener, spelling):
    vm = console_vm(spelling, listener.port)
    client = logged_in(superuser)

    response = client.post(f"/vms/far/{vm.name}/console/ticket/")
    if response.status_code == 409:  # plain loopback: refused before a ticket is issued
        assert "loopback" in response.json()["error"]
    else:
        message = first_message(response.json()["path"], client)
        assert message["type"] == "websocket.close" and message["code"] in REFUSALS
    assert listener.connections == 0


def test_the_same_listener_is_reached_once_a_superuser_marks_the_cluster_as_here(
    superuser, listener
):
    vm = console_vm("127.0.0.1", listener.port, on_this_machine=True, node_address="127.0.0.1")
    client = logged_in(superuser)

    assert first_bytes(ticket_for(client, vm)["path"], client) == b"RFB 003.008\n"
    assert listener.connections == 1


def test_this_deployments_own_services_are_refused_even_on_this_machine(
    superuser, listener, settings
):
    # The listener stands in for Redis: its port is one of this deployment's services.
    settings.RQ_QUEUES = {
        **settings.RQ_QUEUES,
        "probe": {"URL": f"redis://127.0.0.1:{listener.port}/0"},
    }
    vm = console_vm("127.0.0.1", listener.port, on_this_machine=True, node_address="127.0.0.1")
    client = logged_in(superuser)

    message = first_message(ticket_for(client, vm)["path"], client)

    assert message == {"type": "websocket.close", "code": consumers.CLOSE_FORBIDDEN}
    assert listener.connections == 0
