from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GanetiwebConfig(AppConfig):
    name = "ganetiweb"
    verbose_name = _("ganetiweb")

    def ready(self):
        # The system checks, and the signal that remembers a user's language at login.
        from ganetiweb import checks, languages  # noqa: F401
