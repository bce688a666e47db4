"""Forms of the sharing pages."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from access.permissions import permission_names
from access.sharing import Grantee


def _permission_field(obj, required):
    return forms.MultipleChoiceField(
        label=_("Permissions"),
        choices=list(permission_names(obj).items()),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=required,
    )


class GrantForm(forms.Form):
    """Give a user (by username) or a group (by name) some permissions on the object."""

    kind = forms.ChoiceField(
        label=_("Share with"), choices=[("user", _("a user")), ("group", _("a group"))]
    )
    name = forms.CharField(label=_("Username or group name"), max_length=150)

    def __init__(self, *args, obj, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["perms"] = _permission_field(obj, required=True)

    def clean(self):
        data = super().clean()
        name = data.get("name", "").strip()
        if data.get("kind") == "group":
            group = Group.objects.filter(name=name).first()
            if group is None:
                self.add_error("name", _("No group is called “%(name)s”.") % {"name": name})
            else:
                data["grantee"] = Grantee(group)
        elif data.get("kind") == "user":
            user_model = get_user_model()
            lookup = {user_model.USERNAME_FIELD: name, "is_active": True}
            user = user_model.objects.filter(**lookup).first()
            if user is None:
                self.add_error("name", _("No active user is called “%(name)s”.") % {"name": name})
            else:
                data["grantee"] = Grantee(user)
        return data


class HolderForm(forms.Form):
    """Change, or revoke, what one user or group already holding permissions holds."""

    grantee = forms.ChoiceField(choices=[])

    def __init__(self, *args, obj, holders, **kwargs):
        super().__init__(*args, **kwargs)
        self.by_key = {holder.grantee.key: holder.grantee for holder in holders}
        self.fields["grantee"].choices = [(key, key) for key in self.by_key]
        self.fields["perms"] = _permission_field(obj, required=False)

    def clean_grantee(self):
        return self.by_key[self.cleaned_data["grantee"]]
