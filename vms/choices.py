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


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    CANCELED = "canceled", _("canceled")


class JobKind(models.TextChoices):
    CREATE = "create", _("create VM")
    START = "start", _("start")
    SHUTDOWN = "shutdown", _("shut down")
    FORCE_OFF = "force_off", _("force off")
    REBOOT = "reboot", _("reboot")
    MIGRATE = "migrate", _("live migrate")
    FAILOVER = "failover", _("fail over")
    MODIFY = "modify", _("modify")
    RENAME = "rename", _("rename")
    REINSTALL = "reinstall", _("reinstall")
    DELETE = "delete", _("delete")
    NODE_ROLE = "node_role", _("change node role")
    NODE_MIGRATE = "node_migrate", _("migrate node's VMs away")
    NODE_EVACUATE = "node_evacuate", _("evacuate node")


class Severity(models.TextChoices):
    """How bad a health problem is (vms/health.py); the order is the order of the lists."""

    CRITICAL = "critical", _("critical")
    WARNING = "warning", _("warning")
    INFO = "info", _("info")
