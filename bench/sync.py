"""Benchmark the inventory sync against its own fetch, in one process.

For a Ganeti cluster (a fake RAPI on loopback HTTPS serving 200 nodes and 10,000 instances) and
a libvirt host (libvirt's test driver with 1,000 domains) it times:

(a) the baseline: the backend's ``fetch_inventory()`` alone (HTTP or libvirt calls + parsing);
(b) ``sync_cluster()`` into an empty database (it fetches too, then writes every row);
(c) ``sync_cluster()`` again with nothing changed: it must write nothing;
(d) ``sync_cluster()`` after 1% of the VMs were started or stopped.

and prints each as a ratio to (a). The aim: (b) within 2x (a), and (c) writing nothing.

    .venv/bin/python bench/sync.py [--instances 10000 --nodes 200 --domains 1000]
                                   [--postgres | --database-url URL] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import platform
import sys
from typing import TYPE_CHECKING

from _django_env import database_description, django_database

if TYPE_CHECKING:
    from _sync_measure import Figures

FULL_SYNC_AIM = 2.0  # a full sync may take this many times the fetch


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with django_database(args.database_url, args.postgres) as workdir:
        # The models exist only after django.setup().
        from _sync_measure import ganeti_subject, libvirt_subject, measure, profile

        print(_heading(args))
        subjects = []
        if args.instances:
            subjects.append(lambda: ganeti_subject(args.nodes, args.instances, workdir))
        if args.domains:
            subjects.append(lambda: libvirt_subject(args.domains, workdir))
        results = []
        for make_subject in subjects:
            with make_subject() as subject:
                results.append(measure(subject, args.repeat, args.change))
                if args.profile:
                    profile(subject)
        print(_table(results))
        print(_aims(results))
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=10_000, help="Ganeti instances (0: skip)")
    parser.add_argument("--nodes", type=int, default=200, help="Ganeti nodes")
    parser.add_argument("--domains", type=int, default=1_000, help="libvirt domains (0: skip)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (c); best kept")
    parser.add_argument(
        "--change", type=float, default=0.01, help="fraction of VMs flipped for (d); 0: skip"
    )
    database = parser.add_mutually_exclusive_group()
    database.add_argument(
        "--database-url", default="", help="an empty database to use (default: temporary SQLite)"
    )
    database.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL and use it"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile a full and a no-change sync"
    )
    args = parser.parse_args(argv)
    if args.nodes < 1 or args.repeat < 1 or not 0 <= args.change <= 1:
        parser.error("--nodes and --repeat must be at least 1, --change between 0 and 1")
    return args


# --- printing


def _heading(args: argparse.Namespace) -> str:
    return (
        f"sync benchmark: {database_description()}, Python {platform.python_version()}; "
        f"ganeti {args.nodes} nodes / {args.instances} instances, libvirt {args.domains} domains; "
        f"(a) and (c) best of {args.repeat}; (d) after {args.change:.0%} of the VMs changed\n"
    )


COLUMNS = [
    ("backend", "{backend}"),
    ("VMs", "{vm_count}"),
    ("fetch+parse", "{fetch:.3f} s"),
    ("full sync", "{full.seconds:.3f} s"),
    ("full/fetch", "{full_ratio:.2f}x"),
    ("written", "{full.written}"),
    ("2nd sync", "{again.seconds:.3f} s"),
    ("2nd/fetch", "{again_ratio:.2f}x"),
    ("written", "{again.written}"),
    ("write stmts", "{again_statements}"),
    ("changed sync", "{changed_seconds}"),
    ("changed/fetch", "{changed_ratio}"),
    ("written", "{changed_written}"),
]


def _table(results: list[Figures]) -> str:
    """One line per backend; ``write stmts`` is inventory writes + the sync's bookkeeping."""
    rows = [[title for title, _ in COLUMNS]]
    for figures in results:
        values = _row_values(figures)
        rows.append([template.format(**values) for _, template in COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(lines)


def _row_values(figures: Figures) -> dict:
    changed = figures.changed
    again = figures.again
    bookkeeping = len(again.writes) - len(again.inventory_writes)
    return {
        **vars(figures),
        "full_ratio": figures.full.seconds / figures.fetch,
        "again_ratio": again.seconds / figures.fetch,
        "again_statements": f"{len(again.inventory_writes)}+{bookkeeping}",
        "changed_seconds": f"{changed.seconds:.3f} s" if changed else "-",
        "changed_ratio": f"{changed.seconds / figures.fetch:.2f}x" if changed else "-",
        "changed_written": f"{changed.written}/{figures.flipped}" if changed else "-",
    }


def _aims(results: list[Figures]) -> str:
    lines = ["", "aims (reported, not asserted):"]
    for figures in results:
        ratio = figures.full.seconds / figures.fetch
        again = figures.again
        writes_nothing = again.written == 0 and not again.inventory_writes
        lines.append(
            f"  {figures.backend}: full sync within {FULL_SYNC_AIM:g}x fetch+parse: "
            f"{_met(ratio <= FULL_SYNC_AIM)} ({ratio:.2f}x); "
            f"no-change sync writes nothing: {_met(writes_nothing)} "
            f"({again.written} rows, {len(again.inventory_writes)} inventory statements)"
        )
        lines += [f"      {sql[:160]}" for sql in again.inventory_writes[:5]]
    lines.append(
        "  write stmts = inventory INSERT/UPDATE/DELETE + the sync's own UPDATE of last_sync_at;"
        " written = VM rows (SyncResult.written); changed: rows written/VMs changed"
    )
    return "\n".join(lines)


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
