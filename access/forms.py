"""Forms of the sharing pages."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from access.permissions import permission_names
from access.sharing import Grantee, candidates_for


def _permission_field(obj, required):
    return forms.MultipleChoiceField(
        label=_("Permissions"),
        choices=list(permission_names(obj).items()),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=required,
    )


class GrantForm(forms.Form):
    """Give a user (by username) or a group (by name) some permissions on the object.

    Only the people `candidates_for` the actor may be named; anyone else, existing or not,
    gets the same answer, so the form tells nobody which accounts exist.
    """

    kind = forms.ChoiceField(
        label=_("Share with"), choices=[("user", _("a user")), ("group", _("a group"))]
    )
    name = forms.CharField(label=_("Username or group name"), max_length=150)

    def __init__(self, *args, obj, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.obj, self.actor = obj, actor
        self.fields["perms"] = _permission_field(obj, required=True)

    def clean(self):
        data = super().clean()
        name = data.get("name", "").strip()
        kind = data.get("kind")
        if kind not in ("user", "group") or not name:
            return data
        candidates = candidates_for(self.actor, self.obj)
        if kind == "group":
            grantee = candidates.groups.filter(name=name).first()
        else:
            field = get_user_model().USERNAME_FIELD
            grantee = candidates.users.filter(**{field: name}).first()
        if grantee is None:
            self.add_error("name", cannot_be_granted(name))
        else:
            data["grantee"] = Grantee(grantee)
        return data


def cannot_be_granted(name):
    """The one refusal for a name that does not exist and for one the actor may not pick."""
    return _(
        "“%(name)s” cannot be given permissions here: name a user or group that already holds "
        "something on this cluster, or one of your groups or their members."
    ) % {"name": name}


def owner_choices(actor, obj):
    """The owners `actor` may give a VM of `obj` (a cluster or a VM) to, as 'user:ID' or
    'group:ID' grouped under headings, after a first "no owner" choice."""
    candidates = candidates_for(actor, obj)
    users = candidates.users.order_by("username").values_list("pk", "username")
    groups = candidates.groups.order_by("name").values_list("pk", "name")
    return [
        ("", _("(no owner)")),
        (_("Users"), [(f"user:{pk}", name) for pk, name in users]),
        (_("Groups"), [(f"group:{pk}", name) for pk, name in groups]),
    ]


class OwnerChoiceField(forms.ChoiceField):
    """One choice among users and groups; cleans to the User or Group itself."""

    def clean(self, value):
        value = super().clean(value)  # checks the string against the choices
        if not value:
            return None
        kind, _sep, pk = value.partition(":")
        model = get_user_model() if kind == "user" else Group
        return model.objects.get(pk=int(pk))


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
