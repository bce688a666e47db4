"""The form of a VM's owner page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from access.forms import OwnerChoiceField, owner_choices


class OwnerForm(forms.Form):
    """The user or group that owns a VM, or none: one of the people of its cluster."""

    owner = OwnerChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args, actor, vm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owner_choices(actor, vm)
