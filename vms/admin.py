from django.contrib import admin

from vms.models import VirtualMachine, VMTemplate


@admin.register(VMTemplate)
class VMTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "memory", "vcpus", "disk_template", "os"]
    list_filter = ["cluster"]


@admin.register(VirtualMachine)
class VirtualMachineAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "actual_state", "owner_user", "owner_group", "missing"]
    list_filter = ["cluster", "actual_state", "missing"]
    search_fields = ["name"]
    list_select_related = ["cluster", "owner_user", "owner_group"]
    raw_id_fields = ["primary_node"]
