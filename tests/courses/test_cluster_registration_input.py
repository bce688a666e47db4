"""What students may type as their cluster's RAPI address: a host name or an IP address and a
port, nothing the worker would read as something else."""

import pytest
from django.urls import reverse

from courses import services
from courses.models import StudentGroup

pytestmark = pytest.mark.django_db

FIELDS = {"rapi_user": "ro", "rapi_password": "pw", "fingerprint": "AB" * 32}


def _register(client, group, host, port=5080):
    url = reverse("courses:group_cluster", args=[group.course.slug, group.pk])
    return client.post(url, {**FIELDS, "rapi_host": host, "rapi_port": port})


@pytest.mark.parametrize(
    "host",
    [
        "https://master.example.org/",
        "master.example.org:5080",
        "master.example.org/2/info",
        "ro:pw@master.example.org",
        "master example.org",
        "master.example.org\nHost: other.example",
        "-master.example.org",
        "127.1",  # numbers the resolver reads as 127.0.0.1
        "2130706433",
        "0x7f.1",
        "a" * 64 + ".example.org",
        ".".join(["a" * 60] * 5),  # 304 characters
        "[2001:db8::1]",
        "mäster.example.org",
    ],
)
def test_a_registration_with_a_host_that_is_not_a_name_or_an_address_saves_nothing(
    login, students, group_a, host
):
    response = _register(login(students[0]), group_a, host)
    assert response.status_code == 200
    assert response.context["form"].errors["rapi_host"]
    assert StudentGroup.objects.get(pk=group_a.pk).cluster is None


@pytest.mark.parametrize("port", [0, -1, 65536, "5080; x"])
def test_a_registration_with_a_port_out_of_range_saves_nothing(login, students, group_a, port):
    response = _register(login(students[0]), group_a, "master.example.org", port)
    assert response.context["form"].errors["rapi_port"]
    assert StudentGroup.objects.get(pk=group_a.pk).cluster is None


@pytest.mark.parametrize(
    ("host", "saved"),
    [
        ("master.example.org", "master.example.org"),
        (" node-1.lab ", "node-1.lab"),
        ("192.0.2.10", "192.0.2.10"),
        ("2001:DB8::1", "2001:db8::1"),
        ("xn--mster-gra.example.org", "xn--mster-gra.example.org"),
    ],
)
def test_a_host_name_or_an_ip_address_is_saved(login, students, group_a, host, saved):
    assert _register(login(students[0]), group_a, host).status_code == 302
    assert StudentGroup.objects.get(pk=group_a.pk).cluster.rapi_host == saved


def test_the_service_refuses_what_the_form_refuses(group_a):
    with pytest.raises(services.Refused):
        services.register_cluster(group_a, "https://evil.example/", 5080, "ro", "pw")
    with pytest.raises(services.Refused):
        services.register_cluster(group_a, "master.example.org", 70000, "ro", "pw")
    assert StudentGroup.objects.get(pk=group_a.pk).cluster is None
