from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GanetiwebConfig(AppConfig):
    name = "ganetiweb"
    verbose_name = _("ganetiweb")

    def ready(self):
        # Registers the system checks (Django's way: importing the module).
        from ganetiweb import checks  # noqa: F401
