from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GanetiwebConfig(AppConfig):
    name = "ganetiweb"
    verbose_name = _("ganetiweb")

    def ready(self):
        from ganetiweb import checks  # noqa: F401  (registers the system checks)
