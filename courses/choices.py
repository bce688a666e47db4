from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckRunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    FINISHED = "finished", _("finished")
    # The run itself stopped on an error; the results gathered so far are kept.
    FAILED = "failed", _("failed")


class CheckName(models.TextChoices):
    """The evidence of a Ganeti deployment, in the order it is shown."""

    REACHABLE = "reachable", _("RAPI reachable")
    VERSION = "version", _("Ganeti version")
    NODES = "nodes", _("At least two nodes")
    REPLICATED = "replicated", _("A VM with replication (DRBD)")
    NOT_REPLICATED = "not_replicated", _("A VM without replication")
    MIGRATION = "migration", _("A successful migration or failover")
    VERIFY = "verify", _("Cluster verify")
