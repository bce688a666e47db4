"""The personas of the permission tests, around cluster alpha (vm1, vm2, vm3) and beta (vm1).

- alice (plain_user): an outsider, who sees nothing;
- victor: a viewer, holding `power` on alpha's vm1 only;
- oscar: the owner of alpha's vm1;
- gina: a member of group staff, which owns alpha's vm2;
- carla: an administrator of cluster alpha;
- root (superuser).
"""

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from tests.clusters.factories import make_cluster, make_inventory
from tests.conftest import PASSWORD
from vms.models import VirtualMachine
from vms.sync import store_inventory

VM1 = "vm1.example.org"
VM2 = "vm2.example.org"


@pytest.fixture
def alpha(db):
    cluster = make_cluster("alpha")
    store_inventory(cluster, make_inventory(vm_count=3))
    return cluster


@pytest.fixture
def beta(db):
    cluster = make_cluster("beta")
    store_inventory(cluster, make_inventory(vm_count=1, node_count=1))
    return cluster


@pytest.fixture
def vm1(alpha):
    return VirtualMachine.objects.get(cluster=alpha, name=VM1)


@pytest.fixture
def vm2(alpha):
    return VirtualMachine.objects.get(cluster=alpha, name=VM2)


def _user(django_user_model, username):
    return django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD)


@pytest.fixture
def viewer(django_user_model, vm1):
    user = _user(django_user_model, "victor")
    assign_perm("power", user, vm1)
    return user


@pytest.fixture
def owner(django_user_model, vm1):
    user = _user(django_user_model, "oscar")
    VirtualMachine.objects.filter(pk=vm1.pk).update(owner_user=user)
    return user


@pytest.fixture
def staff():
    return Group.objects.create(name="staff")


@pytest.fixture
def member(django_user_model, staff, vm2):
    user = _user(django_user_model, "gina")
    user.groups.add(staff)
    VirtualMachine.objects.filter(pk=vm2.pk).update(owner_group=staff)
    return user


@pytest.fixture
def cluster_admin(django_user_model, alpha):
    user = _user(django_user_model, "carla")
    assign_perm("admin", user, alpha)
    return user


@pytest.fixture
def client_for(client):
    """A test client logged in as the given user (a new one for each call but the first)."""
    from django.test import Client

    used = []

    def login(user):
        logged = client if not used else Client()
        used.append(user)
        logged.force_login(user)
        return logged

    return login
