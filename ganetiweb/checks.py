"""System checks for mistakes in how the site was installed."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def front_end_packages_installed(app_configs, **kwargs):
    """The npm packages must be there, or every page loses its styles and scripts."""
    errors = []
    for entry in settings.STATICFILES_DIRS:
        path = entry[1] if isinstance(entry, tuple) else entry
        if not path.is_dir():
            errors.append(
                Error(
                    f"Static files folder {path} is missing.",
                    hint="Run scripts/install (it runs 'npm ci' for the front-end packages).",
                    id="ganetiweb.E001",
                )
            )
    return errors
