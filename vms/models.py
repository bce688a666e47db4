from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from access.permissions import (
    VM_PERMISSION_FROM_CLUSTER,
    VM_PERMISSIONS,
    check_name,
    held_on,
    may_hold_any,
)
from clusters.models import Cluster, Node
from jobs.models import Job
from vms.choices import ActualState, Severity, WantedState


class VirtualMachineQuerySet(models.QuerySet):
    def for_listing(self):
        """Join what VM tables show, so a list costs the same queries whatever its length."""
        return self.select_related("cluster", "primary_node", "owner_user", "owner_group")

    def visible_to(self, user, perm=None):
        """VMs this user may see (perm None) or on which they hold `perm`: as owner, through a
        permission on the VM, or through one on its cluster (access/permissions.py)."""
        check_name(perm, self.model)
        if not may_hold_any(user):
            return self.none()
        if user.is_superuser:
            return self
        codenames = list(VM_PERMISSIONS) if perm is None else ["admin", perm]
        cluster_codenames = ["admin", *VM_PERMISSION_FROM_CLUSTER.get(perm, [])]
        return self.filter(
            Q(owner_user=user)
            | Q(owner_group__in=user.groups.all())
            | Q(pk__in=held_on(user, self.model, codenames))
            | Q(cluster__in=held_on(user, Cluster, cluster_codenames))
        )


class VirtualMachine(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="vms")
    name = models.CharField(_("name"), max_length=255)
    uuid = models.CharField(max_length=64, blank=True)
    primary_node = models.ForeignKey(
        Node, on_delete=models.SET_NULL, null=True, blank=True, related_name="primary_vms"
    )
    # Node names, in the cluster's order (Ganeti's DRBD secondary).
    secondary_nodes = models.JSONField(_("secondary nodes"), default=list, blank=True)
    wanted_state = models.CharField(
        _("wanted state"), max_length=10, choices=WantedState.choices, default=WantedState.DOWN
    )
    actual_state = models.CharField(
        _("state"), max_length=10, choices=ActualState.choices, default=ActualState.UNKNOWN
    )
    status = models.CharField(_("status on the cluster"), max_length=40, blank=True)
    memory = models.PositiveIntegerField(_("memory (MiB)"), default=0)
    vcpus = models.PositiveIntegerField(_("vCPUs"), default=0)
    disk_template = models.CharField(_("disk template"), max_length=20, blank=True)
    # [{"size": MiB, "name": str, "uuid": str}]
    disks = models.JSONField(_("disks"), default=list, blank=True)
    # [{"network", "link", "mode", "mac", "ip", "name"}]
    nics = models.JSONField(_("network interfaces"), default=list, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    vnc_host = models.CharField(max_length=255, blank=True)
    vnc_port = models.PositiveIntegerField(null=True, blank=True)

    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner (user)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_vms",
    )
    owner_group = models.ForeignKey(
        Group,
        verbose_name=_("owner (group)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_vms",
    )

    created_on_cluster = models.DateTimeField(_("created on the cluster"), null=True, blank=True)
    modified_on_cluster = models.DateTimeField(_("modified on the cluster"), null=True, blank=True)
    # Gone from the cluster at the last sync; kept with its owner until an admin forgets it.
    missing = models.BooleanField(_("missing"), default=False)
    missing_since = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    objects = VirtualMachineQuerySet.as_manager()

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="vm_unique_in_cluster"),
            models.CheckConstraint(
                condition=Q(owner_user__isnull=True) | Q(owner_group__isnull=True),
                name="vm_owner_is_user_or_group",
            ),
        ]
        indexes = [models.Index(fields=["cluster", "missing"])]
        # Granted per VM with django-guardian; the owner and cluster admins hold them all.
        permissions = [
            ("admin", _("Can administer the VM")),
            ("power", _("Can start, stop and reboot the VM")),
            ("console", _("Can open the VM's console")),
            ("modify", _("Can modify the VM")),
            ("migrate", _("Can migrate the VM")),
            ("remove", _("Can delete the VM")),
        ]
        verbose_name = _("virtual machine")
        verbose_name_plural = _("virtual machines")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("vms:detail", args=[self.cluster.slug, self.name])

    @property
    def owner(self):
        return self.owner_user or self.owner_group

    @property
    def owner_ids(self):
        """The owner as the quota functions name owners (vms/quotas.py), like a request's."""
        return {"user": self.owner_user_id, "group": self.owner_group_id}

    @property
    def disk_total(self):
        return sum(disk.get("size", 0) for disk in self.disks)


class VMUserPermission(UserObjectPermissionBase):
    """A permission on one VM held by one user (guardian's direct foreign key table)."""

    content_object = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE)


class VMGroupPermission(GroupObjectPermissionBase):
    """A permission on one VM held by one group."""

    content_object = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE)


class VMTemplate(models.Model):
    """A ready-made VM shape an admin defines for a cluster; users fill the form with it."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="vm_templates")
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=255, blank=True)
    memory = models.PositiveIntegerField(_("memory (MiB)"))
    vcpus = models.PositiveIntegerField(_("vCPUs"), default=1)
    disk_template = models.CharField(_("disk template"), max_length=20)
    disk_sizes = models.JSONField(_("disk sizes (MiB)"), default=list, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    # [{"network": "", "link": "", "mode": ""}]
    nics = models.JSONField(_("network interfaces"), default=list, blank=True)

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="vm_template_unique")
        ]
        verbose_name = _("VM template")
        verbose_name_plural = _("VM templates")

    def __str__(self):
        return f"{self.name} ({self.cluster})"


def _owner_constraints(prefix):
    """A row belongs to a user or to a group, never both."""
    return [
        models.CheckConstraint(
            condition=Q(owner_user__isnull=True) | Q(owner_group__isnull=True),
            name=f"{prefix}_owner_is_user_or_group",
        )
    ]


class Quota(models.Model):
    """What one owner may use on one cluster; the row without an owner is the cluster default.

    An owner's row exists from their first creation on (it is what the quota check locks);
    `use_default` says whether the cluster default applies to them. An empty limit is unlimited.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="quotas")
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    owner_group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    use_default = models.BooleanField(_("use the cluster's default"), default=True)
    memory = models.PositiveIntegerField(_("memory (MiB)"), null=True, blank=True)
    disk = models.PositiveIntegerField(_("disk (MiB)"), null=True, blank=True)
    vcpus = models.PositiveIntegerField(_("vCPUs"), null=True, blank=True)
    vms = models.PositiveIntegerField(_("VMs"), null=True, blank=True)

    class Meta:
        constraints = [
            *_owner_constraints("quota"),
            models.UniqueConstraint(
                fields=["cluster"],
                condition=Q(owner_user__isnull=True, owner_group__isnull=True),
                name="quota_one_default_per_cluster",
            ),
            models.UniqueConstraint(
                fields=["cluster", "owner_user"],
                condition=Q(owner_user__isnull=False),
                name="quota_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["cluster", "owner_group"],
                condition=Q(owner_group__isnull=False),
                name="quota_one_per_group",
            ),
        ]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")

    def __str__(self):
        return f"{self.owner or _('default')} @ {self.cluster}"

    @property
    def owner(self):
        return self.owner_user or self.owner_group


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")
    WITHDRAWN = "withdrawn", _("withdrawn")


class RequestQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Requests a user made, and all requests on clusters they administer."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        administered = Cluster.objects.visible_to(user, "admin")
        return self.filter(Q(requested_by=user) | Q(cluster__in=administered))

    def pending(self):
        return self.filter(status=RequestStatus.PENDING)


class Request(models.Model):
    """What requests for VMs and for quotas share: who asked, the decision, and why."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner (user)"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    owner_group = models.ForeignKey(
        Group,
        verbose_name=_("owner (group)"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    # Why it is a request: the requester's words, or the quota it would exceed.
    message = models.TextField(_("message"), blank=True)
    reason = models.TextField(_("why it needs approval"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision = models.TextField(_("reason given"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    objects = RequestQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    @property
    def owner(self):
        return self.owner_user or self.owner_group

    @property
    def owner_ids(self):
        return {"user": self.owner_user_id, "group": self.owner_group_id}


class VMRequest(Request):
    """A VM asked for beyond quota, or by someone who may only request: an admin decides."""

    # The VM as asked for (VMSpec as JSON); the admin may change it before approving.
    spec = models.JSONField(_("VM"))
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta(Request.Meta):
        constraints = _owner_constraints("vmrequest")
        verbose_name = _("VM request")
        verbose_name_plural = _("VM requests")

    def __str__(self):
        return self.spec.get("name", "")

    def get_absolute_url(self):
        return reverse("vms:vm_request", args=[self.pk])


class QuotaRequest(Request):
    """An owner asks for a larger quota on a cluster; approving it sets their quota."""

    memory = models.PositiveIntegerField(_("memory (MiB)"), null=True, blank=True)
    disk = models.PositiveIntegerField(_("disk (MiB)"), null=True, blank=True)
    vcpus = models.PositiveIntegerField(_("vCPUs"), null=True, blank=True)
    vms = models.PositiveIntegerField(_("VMs"), null=True, blank=True)

    class Meta(Request.Meta):
        constraints = _owner_constraints("quotarequest")
        verbose_name = _("quota request")
        verbose_name_plural = _("quota requests")

    def __str__(self):
        return str(_("quota for %(owner)s") % {"owner": self.owner})

    def get_absolute_url(self):
        return reverse("vms:quota_request", args=[self.pk])


class KnownProblem(models.Model):
    """A health problem the checks after a sync have seen (vms/alerts.py): from when, and when
    it cleared, so that the cluster's admins hear of it once each way. One row per problem key
    ("node:12:offline"); a problem that comes back reopens its row."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    # The sentence as vms/health.py words it, untranslated, with its parameters: the notice
    # that it cleared is written in each admin's language from them.
    message = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "key"], name="known_problem_unique")
        ]
        indexes = [models.Index(fields=["cluster", "cleared_at"])]
        verbose_name = _("known problem")
        verbose_name_plural = _("known problems")

    def __str__(self):
        return f"{self.cluster_id} {self.key}"
