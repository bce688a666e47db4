"""The filters of the audit log page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("any action")), *AuditAction.choices], required=False
    )
    user = forms.CharField(label=_("Who"), max_length=150, required=False)
    cluster = forms.ModelChoiceField(
        label=_("Cluster"), queryset=None, required=False, empty_label=_("any cluster")
    )
    object = forms.CharField(label=_("Object"), max_length=255, required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, clusters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = clusters
        self.fields["cluster"].to_field_name = "slug"

    def apply(self, entries):
        """The entries that pass the valid filters."""
        if not self.is_valid():
            return entries
        data = self.cleaned_data
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["user"]:
            entries = entries.filter(actor_name__icontains=data["user"].strip())
        if data["cluster"]:
            entries = entries.filter(cluster=data["cluster"])
        if data["object"]:
            entries = entries.filter(object_repr__icontains=data["object"].strip())
        if data["date_from"]:
            entries = entries.filter(at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(at__date__lte=data["date_to"])
        return entries
