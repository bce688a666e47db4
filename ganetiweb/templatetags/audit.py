"""Showing audit entries in words."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from access.permissions import SHORT_LABELS
from audit.models import AuditAction
from clusters.models import Cluster

register = template.Library()


def _who(label):
    """'user:alice' reads 'alice', 'group:staff' reads 'group staff', '' reads 'nobody'."""
    kind, _sep, name = str(label).partition(":")
    if not name:
        return str(label) or _("nobody")
    return _("group %(name)s") % {"name": name} if kind == "group" else name


def _perms(names):
    return ", ".join(str(SHORT_LABELS.get(name, name)) for name in names)


def _value(value):
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return str(value)


def _field(name):
    try:
        return str(Cluster._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed reads as its name
        return name.replace("_", " ")


def _change(name, value):
    """One changed cluster setting: 'RAPI host: a → b'; a secret only says it changed."""
    if value == "changed":
        return _("%(field)s changed") % {"field": _field(name)}
    if value == "forgotten":
        return _("%(field)s forgotten") % {"field": _field(name)}
    old, new = value if isinstance(value, list) and len(value) == 2 else ("?", value)
    return _("%(field)s: %(old)s → %(new)s") % {
        "field": _field(name),
        "old": _value(old) if old not in ("", None) else _("(empty)"),
        "new": _value(new) if new not in ("", None) else _("(empty)"),
    }


@register.filter
def audit_details(entry):
    """The details of one entry as a short sentence, or as 'key: value' pairs."""
    details = entry.details or {}
    if entry.action == AuditAction.OWNER_CHANGE and {"old", "new"} <= details.keys():
        return _("from %(old)s to %(new)s") % {
            "old": _who(details["old"]),
            "new": _who(details["new"]),
        }
    if entry.action == AuditAction.CLUSTER_CHANGE and isinstance(details.get("changes"), dict):
        return "; ".join(_change(name, value) for name, value in details["changes"].items())
    sharing_actions = (AuditAction.PERMISSION_GRANT, AuditAction.PERMISSION_REVOKE)
    if entry.action in sharing_actions and {"grantee", "permissions"} <= details.keys():
        text = (
            _("%(permissions)s to %(grantee)s")
            if entry.action == AuditAction.PERMISSION_GRANT
            else _("%(permissions)s from %(grantee)s")
        )
        return text % {
            "permissions": _perms(details["permissions"]),
            "grantee": _who(details["grantee"]),
        }
    return "; ".join(f"{key.replace('_', ' ')}: {_value(value)}" for key, value in details.items())
