from django.contrib import admin

from audit.log import record
from audit.models import AuditAction
from clusters.forms import ClusterForm
from clusters.models import Cluster, Network, Node


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    """The same form as the pages: secrets are never shown, changes are audited, and only
    superusers change anything (the connection settings are theirs alone)."""

    form = ClusterForm
    list_display = ["name", "kind", "software_version", "last_sync_at", "last_sync_error"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser  # a read-only view would show the form's fields too

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if changes := form.changes():
            record(request.user, AuditAction.CLUSTER_CHANGE, obj, changes=changes)


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "role", "memory_total", "memory_free", "missing"]
    list_filter = ["cluster", "role"]


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "kind", "subnet"]
