"""The Job row: one piece of background work, run by an RQ worker; its id is the RQ job id.

What a kind of job does is declared by the app that owns it (jobs/registry.py); this model
only records who asked, what it acts on, and how it went. It points at clusters, nodes and VMs
through string references, so jobs/ imports none of the apps above it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jobs import registry


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    CANCELED = "canceled", _("canceled")


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


def _related(field_name):
    """The model a Job field points at (a cluster, VM or node), without importing its app."""
    return Job._meta.get_field(field_name).related_model


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Jobs on VMs the user may see, jobs they asked for, and all jobs of clusters they
        administer; all for superusers."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        vms = _related("vm").objects.visible_to(user)
        administered = _related("cluster").objects.visible_to(user, "admin")
        return self.filter(Q(vm__in=vms) | Q(requested_by=user) | Q(cluster__in=administered))

    def unfinished(self):
        return self.filter(status__in=UNFINISHED)


class Job(models.Model):
    """One operation run by an RQ worker: on a VM, a node, a whole cluster, or a group's
    cluster for the coursework checks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("operation"), max_length=30)
    cluster = models.ForeignKey(
        "clusters.Cluster", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    vm = models.ForeignKey(
        "vms.VirtualMachine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
    )
    node = models.ForeignKey(
        "clusters.Node", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    # What the job acts on, in words that survive the VM's deletion or renaming.
    target = models.CharField(_("target"), max_length=255)
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    log = models.TextField(_("log"), blank=True)
    # The cluster's own job id (Ganeti), kept so a new worker can follow it after a crash.
    remote_job_id = models.CharField(_("cluster job"), max_length=40, blank=True)
    worker_name = models.CharField(max_length=128, blank=True)
    error = models.TextField(_("error"), blank=True)
    traceback = models.TextField(blank=True)
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["cluster", "kind"])]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self):
        return f"{self.get_kind_display()} {self.target}"

    def get_absolute_url(self):
        return reverse("jobs:detail", args=[self.pk])

    def get_kind_display(self) -> str:
        """The kind in the reader's words, from its declaration (jobs/registry.py)."""
        return registry.label_of(self.kind)

    @property
    def job_type(self) -> "registry.JobType":
        return registry.get(self.kind)

    @property
    def finished(self):
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)

    @property
    def log_lines(self):
        return self.log.splitlines()
