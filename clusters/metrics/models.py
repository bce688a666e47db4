"""The rows of the metric store (store.py says how they are laid out and why)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricBlock(models.Model):
    """A fixed span of one series at one resolution, packed as little-endian float32 values.

    Imported by clusters/models.py so that Django finds it; only store.py reads or writes it.
    """

    class Tier(models.IntegerChoices):
        RAW = 0, _("one minute")
        FIVE_MINUTES = 1, _("five minutes")
        HOUR = 2, _("one hour")

    subject = models.CharField(max_length=64)
    metric = models.CharField(max_length=64)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    # Seconds since the epoch (UTC): half the size of a datetime in SQLite, and store.py
    # computes slots from it.
    start = models.BigIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            # Also the index every read and write of the store goes through.
            models.UniqueConstraint(
                fields=["subject", "metric", "tier", "start"], name="metric_block_unique"
            )
        ]
        verbose_name = _("metric block")
        verbose_name_plural = _("metric blocks")

    def __str__(self):
        return f"{self.subject} {self.metric} {self.get_tier_display()} {self.start}"
