"""The console page and its ticket view: who gets a ticket, and what a ticket is."""

import json

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from guardian.shortcuts import assign_perm

from clusters.models import Node
from tests.clusters.factories import make_cluster
from tests.vms.console.conftest import logged_in
from vms.console.tickets import TICKET_KEY, TICKET_SECONDS
from vms.models import VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm():
    cluster = make_cluster("local", kind="libvirt")
    node = Node.objects.create(cluster=cluster, name="here", address="127.0.0.1", role="regular")
    return VirtualMachine.objects.create(
        cluster=cluster,
        name="web",
        primary_node=node,
        actual_state="running",
        vnc_host="127.0.0.1",
        vnc_port=5901,
    )


def ticket_url(vm):
    return reverse("vms:console_ticket", args=[vm.cluster.slug, vm.name])


def console_url(vm):
    return reverse("vms:console", args=[vm.cluster.slug, vm.name])


def test_it_gives_a_console_holder_a_single_use_ticket_bound_to_user_vm_and_session(outsider, vm):
    assign_perm("console", outsider, vm)
    client = logged_in(outsider)

    answer = client.post(ticket_url(vm)).json()

    store = redis.Redis.from_url(settings.CONSOLE_REDIS_URL)
    key = TICKET_KEY.format(answer["ticket"])
    assert json.loads(store.get(key)) == {
        "user": outsider.pk,
        "vm": vm.pk,
        "session": client.session.session_key,
    }
    assert 0 < store.ttl(key) <= TICKET_SECONDS
    assert answer["path"] == f"/ws/console/{vm.pk}/?ticket={answer['ticket']}"
    assert client.post(ticket_url(vm)).json()["ticket"] != answer["ticket"]


def test_it_hides_the_vm_from_a_user_who_cannot_see_it(outsider, vm):
    client = logged_in(outsider)

    assert client.post(ticket_url(vm)).status_code == 404
    assert client.get(console_url(vm)).status_code == 404


def test_it_refuses_console_to_a_user_who_sees_the_vm_without_the_permission(outsider, vm):
    assign_perm("power", outsider, vm)
    client = logged_in(outsider)

    response = client.post(ticket_url(vm))

    assert response.status_code == 403
    assert client.get(console_url(vm)).status_code == 403


def test_it_asks_anonymous_visitors_to_log_in(client, vm):
    response = client.post(ticket_url(vm))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_ticket_needs_a_post(superuser, vm):
    assert logged_in(superuser).get(ticket_url(vm)).status_code == 405


def test_it_says_the_vm_is_off_instead_of_giving_a_ticket(superuser, vm):
    vm.actual_state = "stopped"
    vm.vnc_port = None
    vm.save()

    response = logged_in(superuser).post(ticket_url(vm))

    assert response.status_code == 409
    assert "not running" in response.json()["error"]


def test_it_refuses_a_console_on_the_loopback_address_of_another_machine(superuser, vm):
    # e.g. libvirt's listen='127.0.0.1' on a qemu+ssh:// host: 127.0.0.1 here is not there.
    vm.primary_node.address = "192.0.2.21"
    vm.primary_node.save()

    response = logged_in(superuser).post(ticket_url(vm))

    assert response.status_code == 409
    assert "loopback" in response.json()["error"]


def test_the_console_page_has_the_controls_and_the_ticket_url(outsider, vm):
    vm.owner_user = outsider
    vm.save()

    page = logged_in(outsider).get(console_url(vm)).content.decode()

    for control in ("console-connect", "console-disconnect", "console-cad", "console-scale"):
        assert f'id="{control}"' in page
    assert ticket_url(vm) in page
    assert "vendor/novnc/core/rfb" in page


def test_the_vm_page_offers_the_console_only_to_holders_of_the_permission(outsider, vm):
    client = logged_in(outsider)
    assign_perm("power", outsider, vm)
    assert console_url(vm) not in client.get(vm.get_absolute_url()).content.decode()

    assign_perm("console", outsider, vm)
    assert console_url(vm) in client.get(vm.get_absolute_url()).content.decode()
