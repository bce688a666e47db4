"""The audit log: who did what to which object, and when."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VM_OPERATION = "vm.operation", _("VM operation requested")
    VM_CREATE = "vm.create", _("VM creation requested")
    OWNER_CHANGE = "owner.change", _("owner changed")
    PERMISSION_GRANT = "permission.grant", _("permissions granted")
    PERMISSION_REVOKE = "permission.revoke", _("permissions revoked")
    QUOTA_CHANGE = "quota.change", _("quota changed")
    REQUEST_CREATE = "request.create", _("request made")
    REQUEST_APPROVE = "request.approve", _("request approved")
    REQUEST_REFUSE = "request.refuse", _("request refused")
    REQUEST_WITHDRAW = "request.withdraw", _("request withdrawn")
    CLUSTER_CHANGE = "cluster.change", _("cluster settings changed")
    NODE_OPERATION = "node.operation", _("node operation requested")
    CONSOLE_SESSION = "console.session", _("console session")


class AuditEntryQuerySet(models.QuerySet):
    def for_object(self, obj):
        content_type = ContentType.objects.get_for_model(obj)
        return self.filter(content_type=content_type, object_id=str(obj.pk))


class AuditEntry(models.Model):
    """Who did what to which object, and when. Written by audit.record(), never changed."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as text too, so the log still names a user who was deleted since.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=AuditAction.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    # The cluster the object belongs to: cluster admins read the log of their clusters.
    cluster = models.ForeignKey(
        "clusters.Cluster",
        verbose_name=_("cluster"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"
