"""One small world that every URL of the project is tried against, and its seven personas.

The personas are those of tests/personas.py. The cluster "lab" holds the VM "web1", owned by
`owner`, who may also create VMs on lab. `viewer` holds only the console permission on web1;
`power_user` belongs to the group "team", which holds the power permission on web1;
`cluster_admin` administers the cluster; `outsider` holds nothing; `superuser` all.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from clusters.models import Cluster, Network, Node
from jobs.models import Job, JobStatus
from tests.personas import (
    make_cluster_admin,
    make_outsider,
    make_owner,
    make_power_user,
    make_superuser,
    make_viewer,
)
from vms.choices import ActualState
from vms.models import QuotaRequest, VirtualMachine, VMRequest, VMTemplate
from vms.operations import JobKind

PERSONAS = ["anonymous", "outsider", "viewer", "power_user", "owner", "cluster_admin", "superuser"]

# The VM permissions each persona holds on web1 (cluster admins and superusers hold them all).
ALL_VM = {"admin", "power", "console", "modify", "migrate", "remove"}
VM_PERMISSIONS = {
    "anonymous": set(),
    "outsider": set(),
    "viewer": {"console"},
    "power_user": {"power"},
    "owner": ALL_VM,
    "cluster_admin": ALL_VM,
    "superuser": ALL_VM,
}
# The cluster permissions each persona holds on lab.
CLUSTER_PERMISSIONS = {
    "anonymous": set(),
    "outsider": set(),
    "viewer": set(),
    "power_user": set(),
    "owner": {"create_vm", "request_vm"},
    "cluster_admin": {"admin", "create_vm", "request_vm", "migrate"},
    "superuser": {"admin", "create_vm", "request_vm", "migrate"},
}


@dataclass
class World:
    users: dict
    cluster: Cluster
    node: Node
    vm: VirtualMachine
    job: Job
    vm_request: VMRequest
    quota_request: QuotaRequest
    group: Group


def build_world() -> World:
    cluster = Cluster.objects.create(
        name="Lab", slug="lab", kind="libvirt", libvirt_uris="qemu:///system", on_this_machine=True
    )
    node = Node.objects.create(
        cluster=cluster,
        name="host1",
        role="regular",
        libvirt_uri="qemu:///system",
        memory_total=8192,
        memory_free=8192,
        disk_total=10240,
        disk_free=10240,
        cpus=2,
    )
    Network.objects.create(cluster=cluster, name="default", kind="libvirt")
    VMTemplate.objects.create(cluster=cluster, name="small", memory=128, disk_template="diskless")
    vm = VirtualMachine.objects.create(
        cluster=cluster,
        name="web1",
        primary_node=node,
        actual_state=ActualState.STOPPED,
        memory=128,
        vcpus=1,
        disk_template="diskless",
    )
    group = Group.objects.create(name="team")
    # In the order of PERSONAS. No passwords: the tests log in with force_login, and hashing
    # six would be slow.
    users = {
        "outsider": make_outsider(password=None),
        "viewer": make_viewer(vm, password=None),
        "power_user": make_power_user(vm, group=group, password=None),
        "owner": make_owner(vm, password=None),
        "cluster_admin": make_cluster_admin(cluster, password=None),
        "superuser": make_superuser(password=None),
    }
    assert list(users) == PERSONAS[1:]
    assign_perm("create_vm", users["owner"], cluster)
    job = Job.objects.create(
        kind=JobKind.START,
        cluster=cluster,
        vm=vm,
        target=vm.name,
        requested_by=users["owner"],
        status=JobStatus.FAILED,
        error="test",
    )
    spec = {
        "name": "web2",
        "memory": 128,
        "vcpus": 1,
        "disk_template": "diskless",
        "disks": [],
        "nics": [],
        "start": False,
    }
    vm_request = VMRequest.objects.create(
        cluster=cluster, requested_by=users["owner"], owner_user=users["owner"], spec=spec
    )
    quota_request = QuotaRequest.objects.create(
        cluster=cluster, requested_by=users["owner"], owner_user=users["owner"], memory=4096
    )
    return World(users, cluster, node, vm, job, vm_request, quota_request, group)


@dataclass
class CourseWorld:
    course: object
    assignment: object
    group: object
    page: object
    revisions: list
    image: object
    run: object


# In the course, the cluster admin teaches; the power user is a student in group "Alfa" (the one
# the URLs name); the viewer is a student in another group; owner and outsider are not enrolled.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def build_course_world(users) -> CourseWorld:
    from datetime import timedelta

    from django.contrib.auth.models import Permission
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from courses import services, wiki
    from courses.models import Assignment, CheckRun, Course

    teacher = users["cluster_admin"]
    teacher.user_permissions.add(Permission.objects.get(codename="teach"))
    course = Course.objects.create(title="Virtualização", slug="virt")
    course.teachers.add(teacher)
    course.students.add(users["power_user"], users["viewer"])
    assignment = Assignment.objects.create(
        course=course,
        title="Cluster Ganeti",
        description="Implantar e documentar.",
        deadline=timezone.now() + timedelta(days=7),
    )
    group = services.create_group(course, "Alfa", users["power_user"])
    services.create_group(course, "Beta", users["viewer"])
    page = wiki.save_page(group, users["power_user"], "Instalação", "# Instalação\n\nPassos.")
    wiki.save_page(
        group, users["power_user"], "Instalação", "# Instalação\n\nMais passos.", page=page
    )
    revisions = list(page.revisions.order_by("pk"))
    image = wiki.upload_image(page, SimpleUploadedFile("pixel.png", PNG), users["power_user"])
    run = CheckRun.objects.create(group=group, requested_by=users["power_user"])
    return CourseWorld(course, assignment, group, page, revisions, image, run)
