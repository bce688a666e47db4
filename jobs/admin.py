from django.contrib import admin

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["kind", "target", "cluster", "status", "requested_by", "created_at"]
    list_filter = ["status", "kind", "cluster"]
    list_select_related = ["cluster", "requested_by"]
    readonly_fields = [f.name for f in Job._meta.fields]
