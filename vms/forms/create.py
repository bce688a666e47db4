"""The form that asks for a new VM, checked against the chosen cluster's limits."""

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from access.permissions import permissions_on
from clusters.choices import ClusterKind, NodeRole
from clusters.planner import NodeRoom, choose_node, roomiest
from vms.models import VirtualMachine
from vms.nics import NicRules, duplicates
from vms.validators import validate_host_name

LIBVIRT_TEMPLATES = ["diskless", "file"]
REPLICATED = {"drbd"}


class DiskForm(forms.Form):
    size = forms.IntegerField(label=_("Size (MiB)"), min_value=1)


class NicForm(forms.Form):
    """One NIC: on one of the cluster's networks, on a link it offers, or on its default."""

    network = forms.ChoiceField(label=_("Network"), required=False)
    link = forms.ChoiceField(
        label=_("Link (bridge)"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "This cluster does not offer the link %(value)s: choose one of its links."
            )
        },
    )
    mode = forms.ChoiceField(label=_("Mode"), required=False)
    ip = forms.CharField(
        label=_("IP address"),
        required=False,
        max_length=64,
        help_text=_("An address of the chosen network, “pool” for any free one, or empty."),
    )
    mac = forms.CharField(label=_("MAC address"), required=False, max_length=17)

    def __init__(self, *args, rules: NicRules, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.fields["network"].choices = [("", _("none (use the link)"))] + [
            (name, f"{name} ({network.subnet})" if network.subnet else name)
            for name, network in rules.networks.items()
        ]
        no_link = _("the cluster's default") if rules.ganeti else _("none (use the network)")
        self.fields["link"].choices = [("", no_link)] + [(link, link) for link in rules.links]
        self.fields["mode"].choices = [("", _("cluster default"))] + [
            (mode, mode) for mode in rules.modes
        ]
        if not rules.ganeti:
            # libvirt: the network or the link says it all, and the host sets no address.
            del self.fields["mode"]
            del self.fields["ip"]
            # An empty row is no NIC at all there (Ganeti's is one on the cluster's default).
            self.empty_permitted = False

    def clean_mac(self):
        mac = self.cleaned_data["mac"].strip().lower()
        parts = mac.split(":")
        if mac and (len(parts) != 6 or not all(len(p) == 2 and _hex(p) for p in parts)):
            raise forms.ValidationError(_("A MAC address looks like aa:00:00:12:34:56."))
        return mac

    def clean(self):
        data = super().clean()
        for field, problem in self.rules.problems(data).items():
            if field not in self.fields:
                field = None  # e.g. an address on libvirt, which has no such field
            if field is None or field not in self.errors:
                self.add_error(field, problem)
        return data


class BaseNicFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        problems = duplicates(form.cleaned_data for form in self.forms)
        if problems:
            raise forms.ValidationError(problems)


def _hex(text):
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


DiskFormSet = forms.formset_factory(DiskForm, extra=0, min_num=0, max_num=16, validate_max=True)
NicFormSet = forms.formset_factory(
    NicForm, formset=BaseNicFormSet, extra=0, min_num=0, max_num=8, validate_max=True
)


def owner_choices_for(user):
    """A user creates for themselves or for one of their groups (an admin for anyone)."""
    groups = Group.objects.all() if user.is_superuser else user.groups.all()
    return [(f"user:{user.pk}", _("me (%(name)s)") % {"name": user.get_username()})] + [
        (f"group:{group.pk}", _("group %(name)s") % {"name": group.name})
        for group in groups.order_by("name")
    ]


class CreateVMForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=253, help_text=_("A host name, e.g. web1.example.org.")
    )
    owner = forms.ChoiceField(label=_("Owner"))
    os = forms.ChoiceField(label=_("Operating system"), required=False)
    vcpus = forms.IntegerField(label=_("vCPUs"), min_value=1, initial=1)
    memory = forms.IntegerField(label=_("Memory (MiB)"), min_value=32, initial=512)
    disk_template = forms.ChoiceField(label=_("Disk template"))
    placement = forms.ChoiceField(label=_("Placement"), required=False)
    secondary_node = forms.ChoiceField(label=_("Secondary node (replicated disks)"), required=False)
    start = forms.BooleanField(label=_("Start it once created"), required=False, initial=True)

    def __init__(self, *args, cluster, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.cluster, self.user = cluster, user
        self.ganeti = cluster.kind == ClusterKind.GANETI
        self.ipolicy = (cluster.info or {}).get("ipolicy") or {}
        self.fields["owner"].choices = owner_choices_for(user)
        self.fields["os"].choices = [(os, os) for os in cluster.operating_systems]
        self.fields["disk_template"].choices = [(t, t) for t in self.enabled_templates()]
        self.nodes = list(cluster.nodes.filter(missing=False).order_by("name"))
        usable = [n for n in self.nodes if self._usable(n)]
        automatic = (
            _("automatic: the cluster's allocator (%(name)s)") % {"name": self.iallocator}
            if self.iallocator
            else _("automatic: the node with the most free memory")
        )
        placement = [("", automatic)]
        if "admin" in permissions_on(user, cluster):  # choosing the node is an admin's call
            placement += [(n.name, _("on node %(name)s") % {"name": n.name}) for n in usable]
        self.fields["placement"].choices = placement
        self.fields["secondary_node"].choices = [("", _("automatic"))] + [
            (n.name, n.name) for n in usable
        ]
        if not self.ganeti:
            # libvirt hosts have no OS installer and no replicated disks.
            del self.fields["os"]
            del self.fields["secondary_node"]

    @property
    def iallocator(self):
        return (self.cluster.info or {}).get("default_iallocator", "") if self.ganeti else ""

    def enabled_templates(self):
        if not self.ganeti:
            return LIBVIRT_TEMPLATES
        enabled = (self.cluster.info or {}).get("enabled_disk_templates") or []
        allowed = self.ipolicy.get("disk-templates")
        return [t for t in enabled if not allowed or t in allowed]

    @staticmethod
    def _usable(node):
        return node.role not in (NodeRole.OFFLINE, NodeRole.DRAINED)

    def clean_name(self):
        name = self.cleaned_data["name"].strip().lower()
        validate_host_name(name)
        if VirtualMachine.objects.filter(cluster=self.cluster, name=name).exists():
            raise forms.ValidationError(
                _("%(cluster)s already has a VM named %(name)s.")
                % {"cluster": self.cluster, "name": name}
            )
        return name

    def check_limits(self, disks: list[int], nic_count: int) -> None:
        """Check the sizes against the cluster's instance policy and free memory."""
        data = self.cleaned_data
        template = data.get("disk_template")
        if template == "diskless" and disks:
            self.add_error("disk_template", _("A diskless VM has no disks: remove them."))
        if template and template != "diskless" and not disks:
            self.add_error("disk_template", _("Add at least one disk, or choose diskless."))
        for bounds in self.ipolicy.get("minmax", [])[:1]:
            low, high = bounds.get("min", {}), bounds.get("max", {})
            self._bound(
                "memory", data.get("memory"), low.get("memory-size"), high.get("memory-size")
            )
            self._bound("vcpus", data.get("vcpus"), low.get("cpu-count"), high.get("cpu-count"))
            for size in disks:
                self._bound(
                    "disk_template",
                    size,
                    low.get("disk-size"),
                    high.get("disk-size"),
                    _("Each disk must be between %(low)s and %(high)s MiB on this cluster."),
                )
            if high.get("nic-count") is not None and nic_count > high["nic-count"]:
                self.add_error(
                    None, _("This cluster allows at most %(n)s NICs.") % {"n": high["nic-count"]}
                )
            if high.get("disk-count") is not None and len(disks) > high["disk-count"]:
                self.add_error(
                    None, _("This cluster allows at most %(n)s disks.") % {"n": high["disk-count"]}
                )
        self._check_room(data.get("memory"), sum(disks))

    def _bound(self, field, value, low, high, message=None):
        if value is None or (low is None and high is None):
            return
        if (low is not None and value < low) or (high is not None and value > high):
            message = message or _("This cluster accepts %(low)s to %(high)s here.")
            self.add_error(field, message % {"low": low, "high": high})

    def _check_room(self, memory, disk):
        if not memory:
            return
        rooms = [
            NodeRoom(n.name, n.memory_free, n.disk_free, usable=self._usable(n)) for n in self.nodes
        ]
        chosen = self.cleaned_data.get("placement")
        if chosen:
            rooms = [room for room in rooms if room.name == chosen]
        if choose_node(rooms, memory, disk) is None:
            best = roomiest(rooms)
            if best is None:
                self.add_error(None, _("No usable node is known: sync the cluster first."))
            else:
                self.add_error(
                    "memory",
                    _("No node has %(memory)s MiB free; the most is %(free)s MiB on %(node)s.")
                    % {"memory": memory, "free": best.memory_free, "node": best.name},
                )

    def placement_for(self, memory, disk):
        """(primary, uri, iallocator) for the new VM: the admin's node, the allocator, or ours."""
        chosen = self.cleaned_data.get("placement")
        if not chosen and self.iallocator:
            return "", "", self.iallocator
        rooms = [
            NodeRoom(n.name, n.memory_free, n.disk_free, usable=self._usable(n)) for n in self.nodes
        ]
        if chosen:
            rooms = [room for room in rooms if room.name == chosen]
        node = choose_node(rooms, memory, disk)
        uri = next((n.libvirt_uri for n in self.nodes if node and n.name == node.name), "")
        return (node.name if node else ""), uri, ""

    def owner_choices(self):
        """(label, owner ids) of each owner this user may create for."""
        return [(label, parse_owner(value)) for value, label in self.fields["owner"].choices]

    def owner_ids(self):
        return parse_owner(self.cleaned_data["owner"])


def parse_owner(value):
    kind, _sep, pk = value.partition(":")
    return {"user": int(pk)} if kind == "user" else {"group": int(pk)}
