"""Twenty creations at once by one owner, run by test_quota_race in a process of its own.

It uses the database of DATABASE_URL (the test's PostgreSQL) through the application's own
settings, so the quota check runs exactly as in production: one thread per request, each with
its own connection, all released at the same moment by a barrier. Prints the outcome as JSON.
"""

import json
import os
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ganetiweb.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402  (after django.setup)
from django.db import connection  # noqa: E402
from guardian.shortcuts import assign_perm  # noqa: E402

from clusters.backends.base import VMSpec  # noqa: E402
from clusters.models import Cluster  # noqa: E402
from jobs.models import Job  # noqa: E402
from vms import approvals, quotas  # noqa: E402
from vms.models import Quota, VMRequest  # noqa: E402

ATTEMPTS = 20
MEMORY = 256
ADMITTED = 5


def main():
    cluster = Cluster.objects.create(name="race", slug="race", kind="libvirt")
    user = get_user_model().objects.create_user("racer")
    assign_perm("create_vm", user, cluster)
    Quota.objects.create(cluster=cluster, memory=MEMORY * ADMITTED, vms=ADMITTED)  # the default
    owner = {"user": user.pk}
    barrier = threading.Barrier(ATTEMPTS)
    outcomes, errors = [], []

    def attempt(number):
        spec = VMSpec(name=f"race{number}", memory=MEMORY, vcpus=1, disk_template="diskless")
        try:
            barrier.wait()
            outcome = approvals.submit_vm_creation(cluster, user, spec, owner)
            outcomes.append(type(outcome).__name__)
        except Exception as exc:  # reported to the test, which fails on any
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = quotas.usage_of(cluster, owner)
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "outcomes": sorted(outcomes),
                "errors": errors,
                "jobs": Job.objects.filter(cluster=cluster).count(),
                "requests": VMRequest.objects.filter(cluster=cluster).count(),
                "reasons": sorted(set(VMRequest.objects.values_list("reason", flat=True))),
                "usage": {"memory": usage.memory, "vms": usage.vms},
                "limit": {"memory": MEMORY * ADMITTED, "vms": ADMITTED},
            }
        )
    )


if __name__ == "__main__":
    main()
