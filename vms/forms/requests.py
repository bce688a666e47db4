"""Forms of the request workflow: an admin's approval (maybe changed), refusals, quota asks."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clusters.choices import ClusterKind
from vms.approvals import QUOTA_FIELDS
from vms.forms.create import LIBVIRT_TEMPLATES, parse_owner


class ApproveVMForm(forms.Form):
    """The VM as requested, which the admin may change before approving."""

    memory = forms.IntegerField(label=_("Memory (MiB)"), min_value=32)
    vcpus = forms.IntegerField(label=_("vCPUs"), min_value=1, max_value=256)
    disks = forms.CharField(
        label=_("Disk sizes (MiB)"),
        required=False,
        help_text=_("Separated by commas, e.g. 10240, 2048."),
    )
    disk_template = forms.ChoiceField(label=_("Disk template"))
    primary_node = forms.ChoiceField(label=_("Node"), required=False)

    def __init__(self, *args, vm_request, **kwargs):
        spec = vm_request.spec
        cluster = vm_request.cluster
        initial = {
            "memory": spec["memory"],
            "vcpus": spec["vcpus"],
            "disks": ", ".join(str(size) for size in spec["disks"]),
            "disk_template": spec["disk_template"],
            "primary_node": spec.get("primary_node", ""),
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.spec, self.cluster = spec, cluster
        if cluster.kind == ClusterKind.GANETI:
            templates = (cluster.info or {}).get("enabled_disk_templates") or []
        else:
            templates = LIBVIRT_TEMPLATES
        templates = sorted(set(templates) | {spec["disk_template"]})
        self.fields["disk_template"].choices = [(t, t) for t in templates]
        nodes = cluster.nodes.filter(missing=False).order_by("name").values_list("name", flat=True)
        self.fields["primary_node"].choices = [("", _("automatic"))] + [(n, n) for n in nodes]

    def clean_disks(self):
        text = self.cleaned_data["disks"].strip()
        if not text:
            return []
        try:
            sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
        except ValueError:
            raise forms.ValidationError(_("Give sizes in MiB as whole numbers.")) from None
        if any(size < 1 for size in sizes):
            raise forms.ValidationError(_("A disk is at least 1 MiB."))
        return sizes

    def changes(self) -> dict:
        """Only what the admin changed, as VMSpec fields."""
        data = self.cleaned_data
        wanted = {
            "memory": data["memory"],
            "vcpus": data["vcpus"],
            "disks": data["disks"],
            "disk_template": data["disk_template"],
        }
        changes = {name: value for name, value in wanted.items() if value != self.spec[name]}
        node = data.get("primary_node", "")
        if node != self.spec.get("primary_node", ""):
            uri = ""
            if node:
                uri = (
                    self.cluster.nodes.filter(name=node)
                    .values_list("libvirt_uri", flat=True)
                    .first()
                    or ""
                )
            changes.update(primary_node=node, primary_uri=uri, iallocator="")
        return changes


class ApproveQuotaForm(forms.Form):
    """The limits asked for, which the admin may change; an empty one keeps the current limit."""

    memory = forms.IntegerField(label=_("Memory (MiB)"), min_value=0, required=False)
    disk = forms.IntegerField(label=_("Disk (MiB)"), min_value=0, required=False)
    vcpus = forms.IntegerField(label=_("vCPUs"), min_value=0, required=False)
    vms = forms.IntegerField(label=_("VMs"), min_value=0, required=False)

    def __init__(self, *args, quota_request, **kwargs):
        initial = {name: getattr(quota_request, name) for name in QUOTA_FIELDS}
        super().__init__(*args, initial=initial, **kwargs)

    def clean(self):
        data = super().clean()
        if all(data.get(name) is None for name in QUOTA_FIELDS):
            raise forms.ValidationError(_("Give at least one new limit, or refuse the request."))
        return data

    def limits(self) -> dict:
        """Every limit, None where the current one stays."""
        return {name: self.cleaned_data.get(name) for name in QUOTA_FIELDS}


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class QuotaRequestForm(forms.Form):
    owner = forms.ChoiceField(label=_("For"))
    memory = forms.IntegerField(label=_("Memory (MiB)"), min_value=0, required=False)
    disk = forms.IntegerField(label=_("Disk (MiB)"), min_value=0, required=False)
    vcpus = forms.IntegerField(label=_("vCPUs"), min_value=0, required=False)
    vms = forms.IntegerField(
        label=_("VMs"),
        min_value=0,
        required=False,
        help_text=_("Leave a limit empty to keep the one you have."),
    )
    message = forms.CharField(
        label=_("Why"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners

    def clean(self):
        data = super().clean()
        if all(data.get(name) is None for name in ("memory", "disk", "vcpus", "vms")):
            raise forms.ValidationError(_("Say how much you need of at least one resource."))
        return data

    def owner_ids(self):
        return parse_owner(self.cleaned_data["owner"])
