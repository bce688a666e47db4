"""A VM's NICs go only where the cluster offers, with addresses that are theirs to take.

The attack: the NIC fields were free text that reached Ganeti and libvirt unchanged, so a
requester could put a VM on the management or DRBD bridge, or claim another VM's address.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clusters.backends.base import NicSpec, VMSpec
from clusters.models import Cluster, Network
from jobs.models import Job
from tests.clusters.factories import make_cluster, make_inventory
from tests.personas import OWNED_VM
from vms import approvals, services
from vms.models import VirtualMachine, VMRequest
from vms.operations import JobKind
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    """alpha: the network lan (192.0.2.0/24, gateway .1), the approved link br0 (not the
    management bridge br-mgmt nor the DRBD one), and vm1 on lan at 192.0.2.10."""
    cluster = make_cluster("alpha", nic_links="br0")
    store_inventory(cluster, make_inventory(vm_count=2))
    Cluster.objects.filter(pk=cluster.pk).update(info={"enabled_disk_templates": ["diskless"]})
    cluster.refresh_from_db()
    Network.objects.create(
        cluster=cluster, name="lan", kind="ganeti", subnet="192.0.2.0/24", gateway="192.0.2.1"
    )
    nic = {"network": "lan", "link": "", "mode": "", "ip": "192.0.2.10", "mac": "aa:00:00:00:00:01"}
    VirtualMachine.objects.filter(cluster=cluster, name=OWNED_VM).update(nics=[nic])
    return cluster


def _create(client, cluster, nics, name="web1.example.org"):
    data = {
        "name": name,
        "owner": f"user:{client.user.pk}",
        "vcpus": "1",
        "memory": "512",
        "disk_template": "diskless",
        "placement": "",
        "start": "on",
        "disks-TOTAL_FORMS": "0",
        "disks-INITIAL_FORMS": "0",
        "nics-TOTAL_FORMS": str(len(nics)),
        "nics-INITIAL_FORMS": "0",
    }
    for i, nic in enumerate(nics):
        for key, value in nic.items():
            data[f"nics-{i}-{key}"] = value
    return client.post(reverse("vms:create", args=[cluster.slug]), data)


@pytest.fixture
def requester(client, creator):
    client.force_login(creator)
    client.user = creator
    return client


def _nic_errors(response):
    nics = response.context["nics"]
    errors = [str(e) for form in nics for field in form.errors.values() for e in field]
    return " ".join(errors + [str(e) for e in nics.non_form_errors()])


def _refused(response, message):
    assert response.status_code == 200
    assert message in _nic_errors(response)
    assert not Job.objects.exists() and not VMRequest.objects.exists()
    # The rest of what the user typed is kept.
    assert response.context["form"]["name"].value() == "web1.example.org"


def test_a_link_the_cluster_does_not_offer_is_refused(requester, cluster):
    response = _create(requester, cluster, [{"link": "br-mgmt", "mode": "bridged"}])
    _refused(response, "This cluster does not offer the link br-mgmt")
    assert b"br-mgmt" not in response.content.split(b"<select")[-1]  # not offered as a choice


def test_a_network_the_cluster_does_not_have_is_refused(requester, cluster):
    _refused(_create(requester, cluster, [{"network": "drbd"}]), "Select a valid choice")


def test_a_mode_ganeti_does_not_have_is_refused(requester, cluster):
    _refused(_create(requester, cluster, [{"link": "br0", "mode": "nat"}]), "valid choice")


@pytest.mark.parametrize(
    ("ip", "message"),
    [
        ("192.0.2.10", "192.0.2.10 is the address of another VM on alpha"),
        ("127.0.0.1", "127.0.0.1 is not an address a VM may route to"),
        ("169.254.1.1", "169.254.1.1 is not an address a VM may route to"),
        ("224.0.0.5", "224.0.0.5 is not an address a VM may route to"),
    ],
)
def test_a_routed_nic_cannot_take_another_vms_or_a_special_address(requester, cluster, ip, message):
    # Its address becomes a route on the node, in the link's routing table.
    response = _create(requester, cluster, [{"link": "br0", "mode": "routed", "ip": ip}])
    _refused(response, message)


def test_a_routed_nic_with_a_free_address_is_queued(requester, cluster):
    response = _create(requester, cluster, [{"link": "br0", "mode": "routed", "ip": "10.9.8.7"}])
    assert response.status_code == 302, _nic_errors(response)
    assert Job.objects.get().params["spec"]["nics"][0]["ip"] == "10.9.8.7"


@pytest.mark.parametrize(
    ("ip", "message"),
    [
        ("10.0.0.5", "10.0.0.5 is not in the network lan (192.0.2.0/24)"),
        ("192.0.2.10", "192.0.2.10 is the address of another VM on alpha"),
        ("192.0.2.0", "the network's own address, broadcast or gateway"),
        ("192.0.2.255", "the network's own address, broadcast or gateway"),
        ("192.0.2.1", "the network's own address, broadcast or gateway"),
        ("2001:db8::5", "The network lan has no IPv6 subnet"),
        ("192.0.2.300", "is not an IP address"),
    ],
)
def test_an_address_outside_the_network_or_taken_is_refused(requester, cluster, ip, message):
    _refused(_create(requester, cluster, [{"network": "lan", "ip": ip}]), message)


def test_an_address_on_a_bare_link_is_refused(requester, cluster):
    response = _create(requester, cluster, [{"link": "br0", "ip": "192.0.2.50"}])
    _refused(response, "An address needs one of the cluster's networks")


def test_another_vms_mac_address_is_refused(requester, cluster):
    response = _create(requester, cluster, [{"network": "lan", "mac": "AA:00:00:00:00:01"}])
    _refused(response, "aa:00:00:00:00:01 is the MAC address of another VM on alpha")


def test_two_nics_with_one_address_are_refused(requester, cluster):
    nic = {"network": "lan", "ip": "192.0.2.50"}
    _refused(_create(requester, cluster, [nic, nic]), "Two NICs cannot both have 192.0.2.50")


def test_an_address_being_given_to_a_vm_now_is_taken(requester, cluster, superuser, worker):
    spec = VMSpec("db1", 256, 1, "diskless", nics=[NicSpec(network="lan", ip="192.0.2.60")])
    services.request_vm_creation(cluster, superuser, spec, {"user": superuser.pk})
    response = _create(requester, cluster, [{"network": "lan", "ip": "192.0.2.60"}])
    assert "192.0.2.60 is the address of another VM" in _nic_errors(response)


def test_the_networks_links_and_addresses_offered_are_accepted(requester, cluster, worker):
    nics = [
        {"network": "lan", "ip": "192.0.2.50"},
        {"network": "lan", "ip": "pool"},
        {"link": "br0", "mode": "bridged"},
        {},  # the cluster's default
    ]
    response = _create(requester, cluster, nics)

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    got = [(n["network"], n["link"], n["mode"], n["ip"]) for n in job.params["spec"]["nics"]]
    assert got == [
        ("lan", "", "", "192.0.2.50"),
        ("lan", "", "", "pool"),
        ("", "br0", "bridged", ""),
        ("", "", "", ""),
    ]


def test_a_vm_request_with_a_bad_link_is_not_filed_either(client, outsider, cluster):
    from guardian.shortcuts import assign_perm

    assign_perm("request_vm", outsider, cluster)  # may only request: the request path
    client.force_login(outsider)
    client.user = outsider
    _refused(_create(client, cluster, [{"link": "br-mgmt"}]), "does not offer the link br-mgmt")


# The services are the boundary: whatever calls them gets the same answer as the form.
def test_the_creation_service_refuses_a_link_not_offered(cluster, superuser):
    spec = VMSpec("web2", 256, 1, "diskless", nics=[NicSpec(link="br-mgmt", mode="bridged")])
    with pytest.raises(services.OperationRefused, match="does not offer the link br-mgmt"):
        services.request_vm_creation(cluster, superuser, spec, {"user": superuser.pk})
    assert not Job.objects.exists()


def test_approving_a_request_filed_with_another_vms_address_is_refused(
    client, cluster, creator, cluster_admin
):
    nic = {"network": "lan", "link": "", "mode": "", "ip": "192.0.2.10", "mac": ""}
    request = VMRequest.objects.create(
        cluster=cluster,
        requested_by=creator,
        owner_user=creator,
        spec=VMSpec("web2", 256, 1, "diskless", nics=[NicSpec(**nic)]).to_json(),
    )
    with pytest.raises(services.OperationRefused, match="address of another VM"):
        approvals.approve_vm_request(request, cluster_admin)
    request.refresh_from_db()
    assert request.status == "pending" and not Job.objects.exists()


def test_adding_a_nic_on_a_link_not_offered_is_refused_and_an_offered_one_queued(
    client, cluster, owner, worker
):
    client.force_login(owner)
    url = reverse("vms:action", args=[cluster.slug, OWNED_VM, "modify"])
    base = {"memory": "1024", "vcpus": "2"}

    response = client.post(url, {**base, "add_nic_link": "br-mgmt"})
    assert response.status_code == 200
    assert "does not offer the link br-mgmt" in str(response.context["form"].errors)
    assert not Job.objects.exists()

    client.post(url, {**base, "add_nic_link": "br0"})
    job = Job.objects.get()
    assert job.kind == JobKind.MODIFY
    assert job.params["changes"]["add_nics"] == [{"network": "", "link": "br0"}]

    vm = VirtualMachine.objects.get(name=OWNED_VM)
    Job.objects.all().delete()
    with pytest.raises(services.OperationRefused, match="does not offer the link br-mgmt"):
        services.request_vm_operation(
            vm, JobKind.MODIFY, owner, changes={"add_nics": [{"link": "br-mgmt"}]}
        )


def test_libvirt_nics_take_a_network_or_an_approved_bridge_and_no_address(client, superuser):
    cluster = make_cluster("lab", kind="libvirt", nic_links="virbr1")
    Network.objects.create(cluster=cluster, name="default", kind="libvirt")
    client.force_login(superuser)
    client.user = superuser
    page = client.get(reverse("vms:create", args=[cluster.slug]))
    assert set(page.context["nics"].empty_form.fields) == {"network", "link", "mac"}

    _refused(_create(client, cluster, [{"link": "br-mgmt"}]), "does not offer the link")
    _refused(_create(client, cluster, [{}]), "goes on a network or a link")
    spec = VMSpec("web2", 256, 1, "diskless", nics=[NicSpec(link="virbr1", ip="10.0.0.1")])
    with pytest.raises(services.OperationRefused, match="do not set a NIC's address"):
        services.request_vm_creation(cluster, superuser, spec, {"user": superuser.pk})


def test_only_interface_names_are_approved_links():
    cluster = Cluster(name="x", slug="x", nic_links="br0\nbad name\n../etc")
    with pytest.raises(ValidationError, match="bad name, ../etc"):
        cluster.full_clean(exclude=["rapi_host"])
