"""The VM creation form: limits come from the cluster, errors are clear, a job is queued."""

import pytest
from django.urls import reverse

from clusters.models import Cluster, Network
from jobs.models import Job
from tests.clusters.factories import make_cluster, make_inventory
from vms.models import VMTemplate
from vms.operations import JobKind
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db

IPOLICY = {
    "minmax": [
        {
            "min": {
                "memory-size": 64,
                "cpu-count": 1,
                "disk-size": 16,
                "disk-count": 1,
                "nic-count": 1,
            },
            "max": {
                "memory-size": 8192,
                "cpu-count": 4,
                "disk-size": 102400,
                "disk-count": 4,
                "nic-count": 2,
            },
        }
    ],
    "disk-templates": ["drbd", "plain", "file", "diskless"],
}


@pytest.fixture
def cluster():
    cluster = make_cluster("alpha")
    store_inventory(cluster, make_inventory(vm_count=1, node_count=2))  # 16 GiB free per node
    info = {
        "enabled_disk_templates": ["file", "diskless"],
        "default_iallocator": "hail",
        "ipolicy": IPOLICY,
    }
    Cluster.objects.filter(pk=cluster.pk).update(
        info=info, operating_systems=["noop"], nic_links="br0\nbr1"
    )
    cluster.refresh_from_db()
    Network.objects.create(cluster=cluster, name="lan", kind="ganeti")
    return cluster


def _post(client, cluster, disks=(), nics=(), **fields):
    data = {
        "name": "web1.example.org",
        "owner": "",
        "os": "noop",
        "vcpus": "1",
        "memory": "512",
        "disk_template": "file",
        "placement": "",
        "start": "on",
        "disks-TOTAL_FORMS": str(len(disks)),
        "disks-INITIAL_FORMS": "0",
        "nics-TOTAL_FORMS": str(len(nics)),
        "nics-INITIAL_FORMS": "0",
    }
    for i, size in enumerate(disks):
        data[f"disks-{i}-size"] = str(size)
    for i, nic in enumerate(nics):
        for key, value in nic.items():
            data[f"nics-{i}-{key}"] = value
    data.update(fields)
    return client.post(reverse("vms:create", args=[cluster.slug]), data)


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    client.owner = f"user:{superuser.pk}"
    return client


def _errors(response):
    form = response.context["form"]
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def test_a_valid_request_queues_a_creation_job_with_the_clusters_allocator(
    superuser_client, cluster, worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            superuser_client,
            cluster,
            disks=[1024],
            nics=[{"network": "lan"}, {"link": "br1", "mode": "bridged"}],
            owner=superuser_client.owner,
        )
    job = Job.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.kind == JobKind.CREATE and job.vm is None
    spec = job.params["spec"]
    assert (spec["name"], spec["memory"], spec["disks"], spec["iallocator"]) == (
        "web1.example.org",
        512,
        [1024],
        "hail",
    )
    assert [n["network"] for n in spec["nics"]] == ["lan", ""]
    assert spec["nics"][1]["link"] == "br1"
    assert worker.queued() == 1


def test_a_superuser_can_place_the_vm_on_a_node(superuser_client, cluster, worker):
    _post(
        superuser_client,
        cluster,
        disks=[1024],
        nics=[{"network": "lan"}],
        owner=superuser_client.owner,
        placement="node2",
    )
    spec = Job.objects.get().params["spec"]
    assert (spec["primary_node"], spec["iallocator"]) == ("node2", "")


@pytest.mark.parametrize(
    ("fields", "disks", "nics", "message"),
    [
        ({"name": "Bad_Name!"}, [1024], [{}], "Use a host name"),
        ({"name": "vm1.example.org"}, [1024], [{}], "already has a VM named vm1.example.org"),
        ({"disk_template": "drbd"}, [1024], [{}], "Select a valid choice"),
        ({"disk_template": "diskless"}, [1024], [{}], "A diskless VM has no disks"),
        ({"disk_template": "file"}, [], [{}], "Add at least one disk"),
        ({"memory": "16384"}, [1024], [{}], "accepts 64 to 8192"),
        ({"vcpus": "8"}, [1024], [{}], "accepts 1 to 4"),
        ({}, [200000], [{}], "Each disk must be between 16 and 102400 MiB"),
        ({}, [1024], [{}, {}, {}], "at most 2 NICs"),
        ({"memory": "8000", "placement": "node1"}, [1024], [{}], "No node has 8000 MiB free"),
        ({}, [1024], [{"network": "lan", "link": "br0"}], "not both"),
        ({}, [1024], [{"mac": "zz:00"}], "A MAC address looks like"),
    ],
)
def test_bad_input_gets_a_clear_error_and_queues_nothing(
    superuser_client, cluster, worker, fields, disks, nics, message
):
    from clusters.models import Node

    Node.objects.filter(cluster=cluster, name="node1").update(memory_free=4096)
    response = _post(
        superuser_client, cluster, disks=disks, nics=nics, owner=superuser_client.owner, **fields
    )
    assert response.status_code == 200
    text = (
        _errors(response)
        + " ".join(
            str(e)
            for formset in ("disks", "nics")
            for f in response.context[formset]
            for e in f.errors.values()
        )
        + response.content.decode()
    )
    assert message in text
    assert not Job.objects.exists()


def test_a_template_fills_the_form(superuser_client, cluster):
    template = VMTemplate.objects.create(
        cluster=cluster,
        name="small",
        memory=256,
        vcpus=2,
        disk_template="file",
        disk_sizes=[2048],
        os="noop",
        nics=[{"network": "lan", "link": "", "mode": ""}],
    )
    response = superuser_client.get(
        reverse("vms:create", args=[cluster.slug]), {"template": template.pk}
    )
    assert response.context["form"].initial["memory"] == 256
    assert response.context["disks"].initial == [{"size": 2048}]
    assert b"small" in response.content


def test_outsiders_cannot_create_yet(client, outsider, cluster):
    client.force_login(outsider)
    assert client.get(reverse("vms:create", args=[cluster.slug])).status_code == 404
    assert list(client.get(reverse("vms:create_start")).context["clusters"]) == []
