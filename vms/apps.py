from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VmsConfig(AppConfig):
    name = "vms"
    verbose_name = _("Virtual machines")

    def ready(self):
        # Declares this app's kinds of job to the runner (jobs/registry.py).
        from vms import jobs, metrics  # noqa: F401
