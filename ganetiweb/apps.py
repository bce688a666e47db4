from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GanetiwebConfig(AppConfig):
    name = "ganetiweb"
    verbose_name = _("ganetiweb")

    def ready(self):
        # Registers the system checks, and the signal that stamps a session's save time at
        # login for the idle timeout (Django's way: importing the modules).
        from ganetiweb import checks, sessions  # noqa: F401
