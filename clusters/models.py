import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from access.permissions import (
    CLUSTER_IMPLIED_BY,
    CLUSTER_PERMISSIONS,
    check_name,
    held_on,
    may_hold_any,
)
from clusters.choices import CertificateTrust, ClusterKind, Health, NetworkKind, NodeRole
from clusters.crypto import EncryptedTextField

# A Linux interface name (IFNAMSIZ 16, so at most 15 characters) or an Open vSwitch bridge.
LINK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}")


def validate_nic_links(value):
    """One link name per line, each a valid interface name."""
    bad = [line.strip() for line in value.splitlines() if line.strip()]
    bad = [name for name in bad if not LINK_NAME.fullmatch(name)]
    if bad:
        raise ValidationError(
            _("%(names)s: a link is an interface name of at most 15 letters, digits, or . _ : -")
            % {"names": ", ".join(bad)}
        )


class ClusterQuerySet(models.QuerySet):
    def visible_to(self, user, perm=None):
        """Clusters this user may see (perm None) or on which they hold `perm`; the rules are
        in access/permissions.py. Seeing one VM of a cluster shows the cluster: the VM model
        comes through the `vms` relation, since clusters/ does not import vms/."""
        check_name(perm, self.model)
        if not may_hold_any(user):
            return self.none()
        if user.is_superuser:
            return self
        if perm is None:
            vm_model = self.model._meta.get_field("vms").related_model
            seen_vms = vm_model.objects.visible_to(user).values("cluster_id")
            any_permission = [*CLUSTER_PERMISSIONS, "view_cluster"]
            return self.filter(
                models.Q(pk__in=held_on(user, self.model, any_permission))
                | models.Q(pk__in=seen_vms)
            )
        codenames = ["admin", perm, *CLUSTER_IMPLIED_BY.get(perm, [])]
        return self.filter(pk__in=held_on(user, self.model, codenames))


class Cluster(models.Model):
    """A Ganeti cluster (reached through RAPI) or a set of libvirt hosts, managed as one."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=100, unique=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=ClusterKind.choices, default=ClusterKind.GANETI
    )
    description = models.TextField(_("description"), blank=True)

    # Ganeti: the RAPI endpoint and how to trust its certificate.
    rapi_host = models.CharField(_("RAPI host"), max_length=255, blank=True)
    rapi_port = models.PositiveIntegerField(_("RAPI port"), default=5080)
    rapi_user = models.CharField(_("RAPI user"), max_length=100, blank=True)
    rapi_password = EncryptedTextField(_("RAPI password"), blank=True)
    certificate_trust = models.CharField(
        _("certificate trust"),
        max_length=10,
        choices=CertificateTrust.choices,
        default=CertificateTrust.PINNED,
    )
    ca_bundle = models.TextField(_("CA bundle (PEM)"), blank=True)
    pinned_fingerprint = models.CharField(_("pinned fingerprint"), max_length=200, blank=True)
    # The fingerprint the cluster presented when no pin matched, waiting for an admin to confirm.
    seen_fingerprint = models.CharField(max_length=200, blank=True, editable=False)

    # Ganeti: the content of the KVM hypervisor's vnc_password_file, which RAPI does not give;
    # the console proxy logs in to the VMs' VNC servers with it (the browser never sees it).
    vnc_password = EncryptedTextField(_("VNC password"), blank=True)

    # libvirt: one URI per host, e.g. qemu:///system or qemu+ssh://host/system.
    libvirt_uris = models.TextField(_("libvirt URIs"), blank=True)
    # Set by a superuser for a cluster (partly) on this machine, like the demo's local
    # libvirtd: only then may its URIs, consoles and RAPI reach this machine's own addresses
    # (clusters/backends/destinations.py).
    on_this_machine = models.BooleanField(
        _("runs on this machine"),
        default=False,
        help_text=_(
            "Allows connections to this machine's own addresses (127.0.0.1, qemu:///system) "
            "for this cluster's hosts and consoles. Only for hosts you run here yourself."
        ),
    )

    # The links (bridges, Open vSwitch switches) that VMs may be attached to directly, set by
    # a superuser: a free-text link could put a VM on the management or DRBD network.
    nic_links = models.TextField(
        _("NIC links"),
        blank=True,
        validators=[validate_nic_links],
        help_text=_(
            "The bridges (or Open vSwitch switches) VMs may be attached to directly, one per "
            "line. The cluster's own networks are always offered; leave this empty to offer "
            "only them and the cluster's default."
        ),
    )

    # When a node's memory or disk use counts as a problem (vms/health.py).
    memory_warning_percent = models.PositiveSmallIntegerField(
        _("memory warning (%)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A node using more than this share of its memory is shown as a problem."),
    )
    disk_warning_percent = models.PositiveSmallIntegerField(
        _("disk warning (%)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A node using more than this share of its disk is shown as a problem."),
    )

    # What the cluster told us on the last sync.
    software_version = models.CharField(max_length=50, blank=True, editable=False)
    info = models.JSONField(default=dict, blank=True, editable=False)
    operating_systems = models.JSONField(default=list, blank=True, editable=False)

    last_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sync_duration = models.FloatField(null=True, blank=True, editable=False)
    last_sync_error = models.TextField(blank=True, editable=False)
    last_sync_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The RQ job id of the sync queued or running now; empty when none is.
    sync_job_id = models.CharField(max_length=64, blank=True, editable=False)
    sync_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The last "test connection", shown on the cluster's page.
    connection_test = models.JSONField(default=dict, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClusterQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        # Granted per cluster with django-guardian; access.permissions says what each implies.
        permissions = [
            ("admin", _("Can administer the cluster")),
            ("create_vm", _("Can create VMs on the cluster")),
            ("request_vm", _("Can request VMs on the cluster")),
            ("migrate", _("Can migrate the cluster's VMs")),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        # The cluster's page shows its VMs, so vms/ serves it (a URL name, not an import).
        return reverse("vms:cluster", args=[self.slug])

    @property
    def uri_list(self):
        return [line.strip() for line in self.libvirt_uris.splitlines() if line.strip()]

    @property
    def link_list(self):
        """The approved NIC links, in the order the superuser gave them."""
        return [line.strip() for line in self.nic_links.splitlines() if line.strip()]

    @property
    def health(self):
        if self.last_sync_at is None and not self.last_sync_error:
            return Health.NEW
        if self.last_sync_error:
            return Health.UNREACHABLE
        return Health.HEALTHY


class Node(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(_("name"), max_length=255)
    address = models.CharField(_("address"), max_length=255, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=NodeRole.choices)
    memory_total = models.PositiveIntegerField(_("memory total (MiB)"), null=True)
    memory_free = models.PositiveIntegerField(_("memory free (MiB)"), null=True)
    disk_total = models.PositiveBigIntegerField(_("disk total (MiB)"), null=True)
    disk_free = models.PositiveBigIntegerField(_("disk free (MiB)"), null=True)
    cpus = models.PositiveIntegerField(_("CPUs"), null=True)
    primary_count = models.PositiveIntegerField(_("primary VMs"), default=0)
    secondary_count = models.PositiveIntegerField(_("secondary VMs"), default=0)
    libvirt_uri = models.CharField(_("libvirt URI"), max_length=500, blank=True)
    uuid = models.CharField(max_length=64, blank=True)
    missing = models.BooleanField(default=False)

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="node_unique_in_cluster")
        ]
        verbose_name = _("node")
        verbose_name_plural = _("nodes")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("vms:node", args=[self.cluster.slug, self.name])

    @property
    def memory_used(self):
        if self.memory_total is None or self.memory_free is None:
            return None
        return self.memory_total - self.memory_free

    @property
    def disk_used(self):
        if self.disk_total is None or self.disk_free is None:
            return None
        return self.disk_total - self.disk_free


class Network(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="networks")
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=10, choices=NetworkKind.choices)
    subnet = models.CharField(_("subnet"), max_length=64, blank=True)
    gateway = models.CharField(_("gateway"), max_length=64, blank=True)
    subnet6 = models.CharField(_("IPv6 subnet"), max_length=64, blank=True)
    gateway6 = models.CharField(_("IPv6 gateway"), max_length=64, blank=True)
    free_count = models.PositiveIntegerField(_("free addresses"), null=True)
    reserved_count = models.PositiveIntegerField(_("reserved addresses"), null=True)
    uuid = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="network_unique_in_cluster")
        ]
        verbose_name = _("network")
        verbose_name_plural = _("networks")

    def __str__(self):
        return self.name


class ClusterUserPermission(UserObjectPermissionBase):
    """A permission on one cluster held by one user (guardian's direct foreign key table)."""

    content_object = models.ForeignKey(Cluster, on_delete=models.CASCADE)


class ClusterGroupPermission(GroupObjectPermissionBase):
    """A permission on one cluster held by one group."""

    content_object = models.ForeignKey(Cluster, on_delete=models.CASCADE)


from clusters.metrics.models import MetricBlock  # noqa: E402, F401  (Django finds models here)
