"""The people of the tests, defined once: every test means the same people by the same names.

    persona        username  holds
    anonymous      -         nothing, and is not logged in
    outsider       alice     nothing (logged in)
    viewer         victor    `console` on a VM: the least that shows it to them
    power_user     paula     `power` on a VM, given to them or to a group of theirs
    owner          oscar     a VM of their own (so every VM permission on it)
    group_member   gina      a place in the group that owns a VM
    cluster_admin  carla     `admin` on a cluster (so everything on it and its VMs)
    superuser      root      everything
    creator        maya      `create_vm` on a cluster, and no VM yet

"admin" alone names no one: a cluster admin holds `admin` on one cluster, a superuser holds
everything everywhere, and Django's admin pages are for superusers.

The `make_*` functions make a persona given the objects they hold rights on. The fixtures make
them around the objects below: `cluster` (alpha, a Ganeti cluster with three VMs on two nodes),
`owned_vm` (its vm1: the owner's, seen by the viewer, powered by the power user), `group_vm`
(its vm2, owned by `owner_group`, gina's group) and `other_cluster` (beta, where nobody holds
anything). A test directory whose tests need another cluster defines its own `cluster` fixture,
and the personas follow it.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from guardian.shortcuts import assign_perm

from tests.clusters.factories import make_cluster, make_inventory
from vms.models import VirtualMachine
from vms.sync import store_inventory

PASSWORD = "correct horse battery staple"

USERNAMES = {
    "outsider": "alice",
    "viewer": "victor",
    "power_user": "paula",
    "owner": "oscar",
    "group_member": "gina",
    "cluster_admin": "carla",
    "superuser": "root",
    "creator": "maya",
}

CLUSTER = "alpha"
OTHER_CLUSTER = "beta"
OWNED_VM = "vm1.example.org"
GROUP_VM = "vm2.example.org"


# Making each persona ----------------------------------------------------------------------------
def make_user(username, password=PASSWORD, **fields):
    """A user who holds nothing. Without a password, hashing is skipped (force_login needs none)."""
    return get_user_model().objects.create_user(
        username, f"{username}@example.com", password, **fields
    )


def make_outsider(password=PASSWORD):
    return make_user(USERNAMES["outsider"], password)


def make_viewer(vm, password=PASSWORD):
    user = make_user(USERNAMES["viewer"], password)
    assign_perm("console", user, vm)
    return user


def make_power_user(vm, group=None, password=PASSWORD):
    """Holds `power` on the VM; through `group`, which they join, when one is given."""
    user = make_user(USERNAMES["power_user"], password)
    if group is None:
        assign_perm("power", user, vm)
    else:
        user.groups.add(group)
        assign_perm("power", group, vm)
    return user


def make_owner(vm, password=PASSWORD):
    user = make_user(USERNAMES["owner"], password)
    VirtualMachine.objects.filter(pk=vm.pk).update(owner_user=user)
    vm.owner_user = user
    return user


def make_group_member(vm, group, password=PASSWORD):
    """Joins `group`, which is made the VM's owner."""
    user = make_user(USERNAMES["group_member"], password)
    user.groups.add(group)
    VirtualMachine.objects.filter(pk=vm.pk).update(owner_group=group)
    vm.owner_group = group
    return user


def make_cluster_admin(cluster, password=PASSWORD):
    user = make_user(USERNAMES["cluster_admin"], password)
    assign_perm("admin", user, cluster)
    return user


def make_superuser(password=PASSWORD):
    username = USERNAMES["superuser"]
    return get_user_model().objects.create_superuser(username, f"{username}@example.com", password)


def make_creator(cluster, password=PASSWORD):
    user = make_user(USERNAMES["creator"], password)
    assign_perm("create_vm", user, cluster)
    return user


# The objects they hold rights on ----------------------------------------------------------------
@pytest.fixture
def cluster(db):
    cluster = make_cluster(CLUSTER)
    store_inventory(cluster, make_inventory(vm_count=3))
    return cluster


@pytest.fixture
def other_cluster(db):
    cluster = make_cluster(OTHER_CLUSTER)
    store_inventory(cluster, make_inventory(vm_count=1, node_count=1))
    return cluster


@pytest.fixture
def owned_vm(cluster):
    return VirtualMachine.objects.get(cluster=cluster, name=OWNED_VM)


@pytest.fixture
def group_vm(cluster):
    return VirtualMachine.objects.get(cluster=cluster, name=GROUP_VM)


@pytest.fixture
def owner_group(db):
    return Group.objects.create(name="staff")


# The personas -----------------------------------------------------------------------------------
@pytest.fixture
def outsider(db):
    return make_outsider()


@pytest.fixture
def viewer(owned_vm):
    return make_viewer(owned_vm)


@pytest.fixture
def power_user(owned_vm):
    return make_power_user(owned_vm)


@pytest.fixture
def owner(owned_vm):
    return make_owner(owned_vm)


@pytest.fixture
def group_member(group_vm, owner_group):
    return make_group_member(group_vm, owner_group)


@pytest.fixture
def cluster_admin(cluster):
    return make_cluster_admin(cluster)


@pytest.fixture
def superuser(db):
    return make_superuser()


@pytest.fixture
def creator(cluster):
    return make_creator(cluster)


@pytest.fixture
def client_for(client):
    """A test client logged in as the given user (a new one for each call but the first)."""
    used = []

    def login(user):
        logged = client if not used else Client()
        used.append(user)
        logged.force_login(user)
        return logged

    return login
