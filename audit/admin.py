from django.contrib import admin

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The log is written by the application only: the admin reads it."""

    list_display = ["at", "actor_name", "action", "object_repr", "cluster"]
    list_filter = ["action", "cluster"]
    search_fields = ["actor_name", "object_repr"]
    date_hierarchy = "at"
    list_select_related = ["cluster"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
