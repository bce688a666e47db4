from django.db import models
from django.utils.translation import gettext_lazy as _


class WantedState(models.TextChoices):
    UP = "up", _("up")
    DOWN = "down", _("down")
    OFFLINE = "offline", _("offline")


class ActualState(models.TextChoices):
    RUNNING = "running", _("running")
    STOPPED = "stopped", _("stopped")
    PAUSED = "paused", _("paused")
    ERROR = "error", _("error")
    UNKNOWN = "unknown", _("unknown")
