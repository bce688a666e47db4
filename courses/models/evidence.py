"""Deployment checks: one run per click, one result per piece of evidence."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from courses.choices import CheckName, CheckRunStatus
from courses.messages import check_details


class CheckRun(models.Model):
    group = models.ForeignKey(
        "courses.StudentGroup", on_delete=models.CASCADE, related_name="check_runs"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CheckRunStatus.choices, default=CheckRunStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # A crash of the run itself (never a failed check, which is a result).
    error = models.TextField(_("error"), blank=True)
    # The job that runs it (jobs/runner.py); the run keeps the evidence.
    job = models.OneToOneField(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="check_run"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("check run")
        verbose_name_plural = _("check runs")

    def __str__(self):
        return f"{self.group} #{self.pk}"

    def get_absolute_url(self):
        return reverse("courses:check_run", args=[self.group.course.slug, self.group.pk, self.pk])

    @property
    def ended(self):
        return self.status in (CheckRunStatus.FINISHED, CheckRunStatus.FAILED)

    def passed_count(self):
        return sum(1 for result in self.results.all() if result.passed)


class CheckResult(models.Model):
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    name = models.CharField(_("check"), max_length=20, choices=CheckName.choices)
    passed = models.BooleanField(_("passed"))
    # A key of courses.messages.DETAILS and its parameters, so that each reader gets the
    # details in their own language.
    message = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(_("checked at"))
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "order"]
        verbose_name = _("check result")
        verbose_name_plural = _("check results")

    def __str__(self):
        return f"{self.get_name_display()}: {self.passed}"

    @property
    def details(self):
        return check_details(self.message, self.params)
