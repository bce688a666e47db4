from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClustersConfig(AppConfig):
    name = "clusters"
    verbose_name = _("Clusters")

    def ready(self):
        # Declares this app's kinds of job to the runner (jobs/registry.py).
        from clusters import jobs  # noqa: F401
