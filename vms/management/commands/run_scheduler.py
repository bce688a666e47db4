"""Enqueue periodic work: an inventory sync per cluster every SYNC_INTERVAL seconds, and a
metric sampling per cluster every METRICS_INTERVAL seconds."""

import signal
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from clusters.jobs import enqueue_sync, syncable
from clusters.models import Cluster
from vms import metrics


def due_clusters(now, interval):
    """Clusters never synced, or whose last sync attempt is older than the interval; never a
    student group's cluster (clusters.jobs.syncable says why)."""
    cutoff = now - timedelta(seconds=interval)
    return syncable(Cluster.objects.all()).filter(
        Q(last_sync_at__isnull=True) | Q(last_sync_at__lt=cutoff),
        Q(last_sync_error_at__isnull=True) | Q(last_sync_error_at__lt=cutoff),
    )


def tick(interval) -> int:
    queued = 0
    for cluster in due_clusters(timezone.now(), interval):
        if enqueue_sync(cluster):
            queued += 1
    return queued


def tick_metrics(interval) -> int:
    """Queue a sampling of each cluster whose round is due and that has none queued or
    running; never of a student group's cluster."""
    queued = 0
    for cluster in syncable(Cluster.objects.all()):
        if metrics.due(cluster.pk, interval) and metrics.enqueue_metrics(cluster):
            queued += 1
    return queued


class Command(BaseCommand):
    help = (
        "Enqueue an inventory sync for each cluster every SYNC_INTERVAL seconds, and a metric "
        "sampling every METRICS_INTERVAL seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one round and exit.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between rounds.")

    def handle(self, *args, once=False, **options):
        interval = settings.SYNC_INTERVAL
        metrics_interval = settings.METRICS_INTERVAL
        running = True

        def stop(signum, frame):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"Scheduler: a sync per cluster every {interval} s, "
            f"a metric sampling every {metrics_interval} s."
        )
        while running:
            queued = tick(interval)
            if queued:
                self.stdout.write(f"Queued {queued} sync(s).")
            sampled = tick_metrics(metrics_interval)
            if sampled:
                self.stdout.write(f"Queued {sampled} metric sampling(s).")
            if once:
                break
            time.sleep(options["tick"])
