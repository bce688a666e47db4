"""Re-encrypt every stored credential with the newest key of CREDENTIALS_KEYS.

To change the key: put a new one in front (CREDENTIALS_KEYS=new,old), restart every process
(web, workers, scheduler) so that they all encrypt with it, run this command, then drop the
old key and restart again.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clusters.crypto import rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored credential with the first (newest) key of CREDENTIALS_KEYS."

    def handle(self, *args, **options):
        done = rotate()
        names = sorted(set(done.reencrypted) | set(done.current) | {n for n, _ in done.unreadable})
        for name in names:
            unreadable = sum(1 for n, _ in done.unreadable if n == name)
            self.stdout.write(
                f"{name}: {done.reencrypted[name]} re-encrypted, {done.current[name]} already "
                f"with the newest key, {unreadable} unreadable"
            )
        total = sum(done.reencrypted.values())
        self.stdout.write(
            f"Re-encrypted {total} value(s) with the newest of {len(settings.CREDENTIALS_KEYS)} "
            "key(s)."
        )
        if done.unreadable:
            listed = ", ".join(f"{name} pk={pk}" for name, pk in done.unreadable)
            raise CommandError(
                f"No key of CREDENTIALS_KEYS decrypts {len(done.unreadable)} value(s), left as "
                f"they were: {listed}. List the key they were saved with and run this again, "
                "or enter those passwords again in the clusters' settings."
            )
