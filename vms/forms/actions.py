"""Forms of the operations on an existing VM; each builds the job's params."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clusters.choices import NodeRole
from vms.models import VirtualMachine
from vms.nics import NicRules
from vms.validators import validate_host_name


class ActionForm(forms.Form):
    """An operation without options."""

    def __init__(self, *args, vm, **kwargs):
        super().__init__(*args, **kwargs)
        self.vm = vm

    def params(self) -> dict:
        return {}


class ShutdownForm(ActionForm):
    timeout = forms.IntegerField(
        label=_("Wait for the guest (seconds)"),
        min_value=5,
        max_value=3600,
        initial=120,
        help_text=_("How long the guest has to power itself off."),
    )

    def params(self):
        return {"timeout": self.cleaned_data["timeout"]}


class RebootForm(ActionForm):
    hard = forms.BooleanField(
        label=_("Hard reset (like pressing the reset button)"), required=False
    )

    def params(self):
        return {"hard": self.cleaned_data["hard"]}


def _other_nodes(vm):
    nodes = vm.cluster.nodes.filter(missing=False).exclude(
        role__in=[NodeRole.OFFLINE, NodeRole.DRAINED]
    )
    if vm.primary_node_id:
        nodes = nodes.exclude(pk=vm.primary_node_id)
    return [(n.name, n.name) for n in nodes]


class MoveForm(ActionForm):
    """Migrate or fail over: to a chosen node, or where the cluster decides."""

    target_node = forms.ChoiceField(label=_("Target node"), required=False)

    def __init__(self, *args, vm, **kwargs):
        super().__init__(*args, vm=vm, **kwargs)
        choices = [("", _("automatic (the cluster chooses)"))]
        self.fields["target_node"].choices = choices + _other_nodes(vm)

    def params(self):
        return {"target_node": self.cleaned_data["target_node"]}


class ModifyForm(ActionForm):
    memory = forms.IntegerField(label=_("Memory (MiB)"), min_value=32)
    vcpus = forms.IntegerField(label=_("vCPUs"), min_value=1, max_value=256)
    grow_disk = forms.TypedChoiceField(
        label=_("Grow disk"), coerce=int, required=False, empty_value=None
    )
    grow_by = forms.IntegerField(label=_("by (MiB)"), min_value=1, required=False)
    add_nic_network = forms.ChoiceField(label=_("Add a NIC on network"), required=False)
    add_nic_link = forms.ChoiceField(
        label=_("or on link (bridge)"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "This cluster does not offer the link %(value)s: choose one of its links."
            )
        },
    )
    remove_nics = forms.TypedMultipleChoiceField(
        label=_("Remove NICs"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, vm, **kwargs):
        super().__init__(*args, vm=vm, **kwargs)
        self.fields["memory"].initial = vm.memory
        self.fields["vcpus"].initial = vm.vcpus
        self.fields["grow_disk"].choices = [("", "—")] + [
            (i, f"#{i} ({disk.get('size', 0)} MiB)") for i, disk in enumerate(vm.disks)
        ]
        # The cluster's networks and approved links only (vms/nics.py).
        self.nic_rules = NicRules(vm.cluster)
        self.fields["add_nic_network"].choices = [("", "—")] + [
            (name, name) for name in self.nic_rules.networks
        ]
        self.fields["add_nic_link"].choices = [("", "—")] + [
            (link, link) for link in self.nic_rules.links
        ]
        self.fields["remove_nics"].choices = [
            (i, f"#{i} {nic.get('network') or nic.get('link') or ''} {nic.get('mac', '')}")
            for i, nic in enumerate(vm.nics)
        ]

    def clean(self):
        data = super().clean()
        if (data.get("grow_disk") is None) != (data.get("grow_by") is None):
            self.add_error("grow_by", _("Choose a disk and how much to add to it."))
        if data.get("add_nic_network") and data.get("add_nic_link"):
            self.add_error("add_nic_link", _("Give a network or a link, not both."))
        elif data.get("add_nic_network") or data.get("add_nic_link"):
            nic = {"network": data.get("add_nic_network"), "link": data.get("add_nic_link")}
            for problem in self.nic_rules.problems(nic).values():
                self.add_error("add_nic_network", problem)
        if not self.params_changes(data):
            raise forms.ValidationError(_("Nothing to change."))
        return data

    def params_changes(self, data):
        changes = {}
        if data.get("memory") and data["memory"] != self.vm.memory:
            changes["memory"] = data["memory"]
        if data.get("vcpus") and data["vcpus"] != self.vm.vcpus:
            changes["vcpus"] = data["vcpus"]
        if data.get("grow_disk") is not None and data.get("grow_by"):
            changes["grow_disks"] = {str(data["grow_disk"]): data["grow_by"]}
        if data.get("add_nic_network") or data.get("add_nic_link"):
            nic = {"network": data.get("add_nic_network", ""), "link": data.get("add_nic_link", "")}
            changes["add_nics"] = [nic]
        if data.get("remove_nics"):
            changes["remove_nics"] = sorted(data["remove_nics"], reverse=True)
        return changes

    def params(self):
        return {"changes": self.params_changes(self.cleaned_data)}


class RenameForm(ActionForm):
    new_name = forms.CharField(label=_("New name"), max_length=253)

    def clean_new_name(self):
        name = self.cleaned_data["new_name"].strip().lower()
        validate_host_name(name)
        if name == self.vm.name:
            raise forms.ValidationError(_("That is already its name."))
        if VirtualMachine.objects.filter(cluster=self.vm.cluster, name=name).exists():
            raise forms.ValidationError(_("Another VM of this cluster has that name."))
        return name

    def params(self):
        return {"new_name": self.cleaned_data["new_name"]}


class ReinstallForm(ActionForm):
    os = forms.ChoiceField(label=_("Operating system"))
    confirm = forms.BooleanField(
        label=_("I understand that everything on the VM's disks is erased."), required=True
    )

    def __init__(self, *args, vm, **kwargs):
        super().__init__(*args, vm=vm, **kwargs)
        self.fields["os"].choices = [(os, os) for os in vm.cluster.operating_systems]
        self.fields["os"].initial = vm.os

    def params(self):
        return {"os": self.cleaned_data["os"]}


class DeleteForm(ActionForm):
    confirm_name = forms.CharField(label=_("Type the VM's name to confirm"))

    def clean_confirm_name(self):
        if self.cleaned_data["confirm_name"].strip() != self.vm.name:
            raise forms.ValidationError(_("The name does not match; nothing was deleted."))
        return self.cleaned_data["confirm_name"]
