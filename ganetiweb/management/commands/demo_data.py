"""Create the demo's users and tiny VMs, once; print the credentials every time."""

import json
import secrets

import libvirt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from guardian.shortcuts import assign_perm

from clusters.models import Cluster
from testbed.libvirt import define_tiny_vm
from vms.models import Quota, VirtualMachine
from vms.sync import sync_cluster

DEMO_VMS = ["gwdemo-web", "gwdemo-db"]
DEMO_USERS = [
    # username, superuser, e-mail
    ("admin", True, "admin@example.com"),
    ("alice", False, "alice@example.com"),
    ("prof", False, "prof@example.com"),  # teaches: may create courses
]


class Command(BaseCommand):
    help = "Create demo users and tiny QEMU VMs on a local libvirtd (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--libvirt-uri", default="qemu:///system")
        parser.add_argument(
            "--second-libvirt-uri",
            default="",
            help="A second libvirt host (scripts/libvirt-host2) to add to the demo's cluster.",
        )
        parser.add_argument(
            "--stop-vms", action="store_true", help="Power off the demo VMs and do nothing else."
        )

    def handle(self, *args, **options):
        uris = [options["libvirt_uri"]]
        if options["second_libvirt_uri"]:
            uris.append(options["second_libvirt_uri"])
        if options["stop_vms"]:
            for uri in uris:
                self.stop_vms(uri)
            return
        credentials = self.ensure_users()
        self.ensure_vms(uris)
        self.ensure_cluster(uris)
        self.stdout.write(self.style.SUCCESS("Demo users (username / password):"))
        for username, password in credentials.items():
            self.stdout.write(f"  {username} / {password}")

    def ensure_users(self):
        """Make the demo users; their random passwords are kept outside the repository."""
        path = settings.DATA_DIR / "demo_credentials.json"
        credentials = json.loads(path.read_text()) if path.exists() else {}
        User = get_user_model()
        for username, superuser, email in DEMO_USERS:
            password = credentials.setdefault(username, secrets.token_urlsafe(9))
            user, created = User.objects.get_or_create(username=username, defaults={"email": email})
            if created or not user.check_password(password):
                user.set_password(password)
            user.is_staff = user.is_superuser = superuser
            user.save()
            if username == "prof":
                user.user_permissions.add(Permission.objects.get(codename="teach"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        return credentials

    def ensure_vms(self, uris):
        """Define the demo VMs on the first host, unless a host has them (one migrated)."""
        conns = []
        try:
            for uri in uris:
                try:
                    conns.append(libvirt.open(uri))
                except libvirt.libvirtError as exc:
                    raise CommandError(f"libvirtd at {uri} cannot be reached: {exc}") from exc
            conn = conns[0]
            existing = {dom.name(): dom for c in reversed(conns) for dom in c.listAllDomains()}
            for name in DEMO_VMS:
                if name not in existing:
                    define_tiny_vm(conn, name, start=True)
                    self.stdout.write(f"Defined and started the demo VM {name}.")
                elif not existing[name].isActive():
                    existing[name].create()
                    self.stdout.write(f"Started the demo VM {name}.")
        finally:
            for conn in conns:
                conn.close()

    def ensure_cluster(self, uris):
        """Register the local libvirtd (and the second host) as a cluster, read it once, give
        alice a VM."""
        uri = "\n".join(uris)
        cluster, created = Cluster.objects.get_or_create(
            slug="local",
            defaults={
                "name": "Local libvirt",
                "kind": "libvirt",
                "libvirt_uris": uri,
                "description": "The demo's own libvirtd with QEMU",
                # Its VMs' consoles listen on this machine's loopback address.
                "on_this_machine": True,
            },
        )
        if cluster.libvirt_uris != uri or not cluster.on_this_machine:
            # The second host added or left out this time; or a data directory from before
            # clusters were marked as running on this machine.
            cluster.libvirt_uris = uri
            cluster.on_this_machine = True
            cluster.save(update_fields=["libvirt_uris", "on_this_machine"])
        # A management command may talk to the host; web requests never do.
        result = sync_cluster(cluster.pk)
        if result.error:
            raise CommandError(f"The first sync of {cluster} failed: {result.error}")
        if created:
            alice = get_user_model().objects.get(username="alice")
            VirtualMachine.objects.filter(cluster=cluster, name=DEMO_VMS[0]).update(
                owner_user=alice
            )
            # alice may create VMs within a small quota; beyond it, her VMs become requests
            # that admin approves on the Requests page.
            assign_perm("create_vm", alice, cluster)
            Quota.objects.get_or_create(
                cluster=cluster,
                owner_user=None,
                owner_group=None,
                defaults={"memory": 256, "vcpus": 2, "disk": 1024, "vms": 3},
            )
            self.stdout.write(f"Registered the cluster {cluster} ({uri}).")

    def stop_vms(self, uri):
        conn = libvirt.open(uri)
        try:
            for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                if dom.name() in DEMO_VMS:
                    dom.destroy()
        finally:
            conn.close()
