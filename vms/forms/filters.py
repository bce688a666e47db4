from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clusters.models import Cluster
from vms.choices import ActualState


class VMFilterForm(forms.Form):
    """Search and filters of the VM list; every field is optional."""

    q = forms.CharField(label=_("Search"), required=False)
    cluster = forms.ChoiceField(label=_("Cluster"), required=False)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("any state")), *ActualState.choices]
    )
    owner = forms.CharField(label=_("Owner"), required=False)
    node = forms.CharField(label=_("Node"), required=False)
    missing = forms.BooleanField(label=_("Missing from the cluster"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        clusters = Cluster.objects.visible_to(user).values_list("slug", "name")
        self.fields["cluster"].choices = [("", _("all clusters")), *clusters]

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(Q(name__icontains=data["q"]) | Q(os__icontains=data["q"]))
        if data["cluster"]:
            queryset = queryset.filter(cluster__slug=data["cluster"])
        if data["state"]:
            queryset = queryset.filter(actual_state=data["state"])
        if data["owner"]:
            queryset = queryset.filter(
                Q(owner_user__username=data["owner"]) | Q(owner_group__name=data["owner"])
            )
        if data["node"]:
            queryset = queryset.filter(primary_node__name=data["node"])
        return queryset.filter(missing=data["missing"])
