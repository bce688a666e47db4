"""Move a SQLite database made before the re-cut of the packages aside, so `migrate` starts a
new one (there was no production database then; the demo recreates its data)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from ganetiweb.checks import old_layout


class Command(BaseCommand):
    help = "Move an old-layout SQLite database aside (the demo runs this before migrate)."
    requires_system_checks = []  # the database check is what this command answers

    def handle(self, *args, **options):
        if not old_layout(connection):
            return
        if connection.vendor != "sqlite":
            raise CommandError(
                "This database was made by an older ganetiweb; move it aside by hand."
            )
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        aside = path.with_name(f"{path.name}.before-recut-{timezone.now():%Y%m%d%H%M%S}")
        path.rename(aside)
        self.stdout.write(
            f"{path} was made by an older ganetiweb; moved it to {aside} and starting anew."
        )
