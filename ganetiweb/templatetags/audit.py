"""Showing audit entries in words."""

from django import template
from django.utils.translation import gettext as _

from access.permissions import SHORT_LABELS
from audit.models import AuditAction

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


@register.filter
def audit_details(entry):
    """The details of one entry as a short sentence, or as 'key: value' pairs."""
    details = entry.details or {}
    if entry.action == AuditAction.OWNER_CHANGE and {"old", "new"} <= details.keys():
        return _("from %(old)s to %(new)s") % {
            "old": _who(details["old"]),
            "new": _who(details["new"]),
        }
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
