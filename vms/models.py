from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clusters.models import Cluster, Node
from vms.choices import ActualState, WantedState


class VirtualMachineQuerySet(models.QuerySet):
    def for_listing(self):
        """Join what VM tables show, so a list costs the same queries whatever its length."""
        return self.select_related("cluster", "primary_node", "owner_user", "owner_group")

    def visible_to(self, user):
        """The VMs this user may see. The permission work widens this to object permissions."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(Q(owner_user=user) | Q(owner_group__in=user.groups.all()))


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
    def disk_total(self):
        return sum(disk.get("size", 0) for disk in self.disks)
