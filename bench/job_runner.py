"""Benchmark VM operations through the job queue against the same operations called directly.

On the real Ganeti test cluster (testbed/ganeti.py: Ganeti 3.0, fake hypervisor) it creates a
few diskless instances and hard-reboots them, round-robin, ``--jobs`` times (200) in all:

(a) the baseline: two threads call ``GanetiBackend.reboot_vm`` in a loop, each taking the next
    reboot as soon as its last one returned;
(b) the application: ``vms.services.request_vm_operation`` queues each reboot as a Job row and
    an RQ job in a private Redis, and two real ``manage.py rqworker default`` processes run
    them. The service allows one unfinished job per VM, so each VM gets its next reboot when
    its last one ended: ``--instances`` jobs are in flight, and the workers never wait for work.

It prints jobs per second and per-job times for both, with (b)'s ratio to (a), and (b)'s
enqueue-to-start latency (Job.created_at -> Job.started_at).

    .venv/bin/python bench/job_runner.py [--jobs 200 --instances 6]
        [--postgres | --database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import secrets
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from _django_env import database_description, django_database
from _ganeti_instances import BaselineRun, baseline, diskless_instances, ganeti_times

from testbed import ganeti
from testbed.redis import start_redis

if TYPE_CHECKING:
    from _jobs_app import AppRun

WORKERS = 2  # RQ worker processes, and baseline threads to match


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ganetiweb-bench-")))
        server = start_redis(scratch / "redis")
        stack.callback(server.stop)
        # Read by django.setup() here and by the workers, which inherit the environment.
        os.environ["REDIS_URL"] = server.url
        os.environ["SECRET_KEY"] = os.environ["CREDENTIALS_KEYS"] = secrets.token_urlsafe(48)
        workdir = stack.enter_context(django_database(args.database_url, args.postgres))
        # The models exist only after django.setup().
        from _jobs_app import bench_user, drive, registered_cluster, rq_workers

        cluster = ganeti.start()
        print(_heading(args, cluster.rapi("GET", "/2/info")["software_version"]))
        names = stack.enter_context(diskless_instances(cluster, args.instances))

        base = baseline(cluster, names, args.jobs, WORKERS)
        with (
            registered_cluster(cluster, names) as vms,
            bench_user(vms) as requester,
            rq_workers(WORKERS, workdir),
        ):
            app = drive(vms, args.jobs, requester, WORKERS)

        print(_table(base, app))
        print(_ganeti_table(cluster, base, app))
        print(_failures(base, app))
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="reboots in each run")
    parser.add_argument(
        "--instances",
        type=int,
        default=6,
        help=f"diskless instances (jobs in flight through the queue; more than {WORKERS})",
    )
    database = parser.add_mutually_exclusive_group()
    database.add_argument(
        "--database-url", default="", help="an empty database to use (default: temporary SQLite)"
    )
    database.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL and use it"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.instances < 1:
        parser.error("--jobs and --instances must be at least 1")
    return args


# --- printing


def _heading(args: argparse.Namespace, version: str) -> str:
    return (
        f"jobs benchmark: {database_description()}, Python {platform.python_version()}, "
        f"Ganeti {version} (fake hypervisor); {args.jobs} hard reboots round-robin over "
        f"{args.instances} diskless instances\n"
        f"  baseline: {WORKERS} threads calling GanetiBackend.reboot_vm in a loop\n"
        f"  app: request_vm_operation -> Redis -> {WORKERS} `manage.py rqworker default`, "
        f"one job per VM in flight ({min(args.instances, args.jobs)} in all)\n"
    )


COLUMNS = [
    "",
    "jobs",
    "failed",
    "wall",
    "jobs/s",
    "op median",
    "op p95",
    "request->end median",
    "p95",
    "enqueue->start median",
    "p95",
    "worker gap median",
    "p95",
]


def _table(base: BaselineRun, app: AppRun) -> str:
    """Baseline, application, and their ratio. *op* is one operation as its runner sees it:
    the backend call for the baseline, started_at -> finished_at in the worker for the app."""
    from _jobs_app import enqueue_to_start, failures, in_worker, request_to_end, worker_gaps

    base_rate = len(base.durations) / base.wall
    app_rate = len(app.jobs) / app.wall
    base_ops, app_ops, app_ends = base.durations, in_worker(app), request_to_end(app)
    rows = [
        COLUMNS,
        [
            f"baseline ({base.threads} threads)",
            str(len(base.durations)),
            str(len(base.failures)),
            f"{base.wall:.1f} s",
            f"{base_rate:.3f}",
            *_stats(base_ops),
            *_stats(base_ops),
            "-",
            "-",
            "-",
            "-",
        ],
        [
            f"app ({app.workers} RQ workers)",
            str(len(app.jobs)),
            str(len(failures(app))),
            f"{app.wall:.1f} s",
            f"{app_rate:.3f}",
            *_stats(app_ops),
            *_stats(app_ends),
            *_stats(enqueue_to_start(app)),
            *_stats(worker_gaps(app)),
        ],
        [
            "ratio app/baseline",
            "",
            "",
            _ratio(app.wall, base.wall),
            _ratio(app_rate, base_rate),
            _ratio(_percentile(app_ops, 0.5), _percentile(base_ops, 0.5)),
            _ratio(_percentile(app_ops, 0.95), _percentile(base_ops, 0.95)),
            _ratio(_percentile(app_ends, 0.5), _percentile(base_ops, 0.5)),
            _ratio(_percentile(app_ends, 0.95), _percentile(base_ops, 0.95)),
            "",
            "",
            "",
            "",
        ],
    ]
    notes = (
        "\n  op: the backend call (baseline) or started_at -> finished_at in the worker (app);"
        "\n  request->end: created_at -> finished_at (app), the call itself (baseline);"
        "\n  enqueue->start: created_at -> started_at, the wait in the queue and the pickup;"
        "\n  worker gap: a worker's previous finished_at (or the request, if later) -> started_at."
    )
    return _format(rows) + notes


def _ganeti_table(cluster: ganeti.GanetiTestbed, base: BaselineRun, app: AppRun) -> str:
    """Ganeti's timestamps of the same jobs: how much of each operation is Ganeti's."""
    rows = [["Ganeti's own timestamps", "queued median", "p95", "running median", "p95"]]
    for title, job_ids in (
        ("baseline", base.ganeti_jobs),
        ("app", [job.remote_job for job in app.jobs]),
    ):
        times = ganeti_times(cluster, job_ids)
        rows.append([title, *_stats(times.queued), *_stats(times.running)])
    return "\n" + _format(rows)


def _failures(base: BaselineRun, app: AppRun) -> str:
    from _jobs_app import failures

    lines = []
    for title, failed in (("baseline", base.failures), ("app", failures(app))):
        if failed:
            lines.append(f"\n{title}: {len(failed)} failed, e.g.:")
            lines += [f"  {message[:200]}" for message in failed[:5]]
    return "\n".join(lines)


def _format(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def _stats(values: list[float]) -> list[str]:
    """Median and p95, formatted."""
    if not values:
        return ["-", "-"]
    return [f"{_percentile(values, 0.5):.3f} s", f"{_percentile(values, 0.95):.3f} s"]


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (the median of an even count is its lower middle)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _ratio(app: float, base: float) -> str:
    return f"{app / base:.2f}x" if base and not math.isnan(app) else "-"


if __name__ == "__main__":
    sys.exit(main())
