from django.contrib import admin

from clusters.models import Cluster, Network, Node


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "software_version", "last_sync_at", "last_sync_error"]
    exclude = ["rapi_password"]  # set through the cluster form, which never shows it


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "role", "memory_total", "memory_free", "missing"]
    list_filter = ["cluster", "role"]


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "kind", "subnet"]
