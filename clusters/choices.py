from django.db import models
from django.utils.translation import gettext_lazy as _


class ClusterKind(models.TextChoices):
    GANETI = "ganeti", _("Ganeti cluster")
    LIBVIRT = "libvirt", _("libvirt hosts")


class CertificateTrust(models.TextChoices):
    PINNED = "pinned", _("Pin the cluster's certificate (fingerprint)")
    CA = "ca", _("Verify against a CA bundle")


class NodeRole(models.TextChoices):
    MASTER = "master", _("master")
    CANDIDATE = "candidate", _("master candidate")
    REGULAR = "regular", _("regular")
    DRAINED = "drained", _("drained")
    OFFLINE = "offline", _("offline")


class NetworkKind(models.TextChoices):
    GANETI = "ganeti", _("Ganeti network")
    LIBVIRT = "libvirt", _("libvirt network")
    BRIDGE = "bridge", _("bridge")


class Health(models.TextChoices):
    """One word for a cluster's state on the dashboard."""

    HEALTHY = "healthy", _("healthy")
    DEGRADED = "degraded", _("degraded")
    UNREACHABLE = "unreachable", _("unreachable")
    NEW = "new", _("not synced yet")
