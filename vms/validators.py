"""Checks shared by the VM forms."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_host_name(value: str) -> None:
    """A VM name must be a valid host name (RFC 1123): Ganeti and DNS both need it."""
    if len(value) > 253:
        raise ValidationError(_("A host name has at most 253 characters."))
    labels = value.split(".")
    if not all(LABEL.match(label) for label in labels):
        raise ValidationError(
            _(
                "Use a host name: lowercase letters, digits and hyphens, in parts separated by "
                "dots, each part 1 to 63 characters, not starting or ending with a hyphen."
            )
        )
