"""What applying orders costs in a store with long customer histories (SQLite, in one process).

A history import's later passes, and every pass of a store with years of orders, apply orders of
customers who already have many: the customer-days, the contact totals and the rescoring read per
customer, so their cost follows the history, not the pass. This builds a store of --history orders
from --customers buyers once (kept at --base; 300,000 orders from 15,000 buyers, 20 each, takes
about 3 minutes), then applies the next --more orders of the same stream to a copy of it in passes
of --batch, and prints the CPU per order of applying them.

    .venv/bin/python -m bench.profile_history                      # build once, then measure
    .venv/bin/python -m bench.profile_history --profile /tmp/h.prof  # and cProfile the passes
    .venv/bin/python -m bench.profile_history --sql "PRAGMA mmap_size=0"  # a setting, before/after

The CPU of one run moves by 10-30 % on a shared machine. For a figure that does not, count
instructions: the same run under callgrind, less a run with --more 0 (start-up, imports and the
copy):

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.1000 \\
        .venv/bin/python -m bench.profile_history --more 1000
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.0 \\
        .venv/bin/python -m bench.profile_history --more 0
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import resource
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.traffic import orders as order_stream
from companion import pipeline
from companion.core import heap, runtime
from companion.core.db import bind_database
from companion.core.settings import Settings
from companion.ingest.receive import store_batch
from companion.migrations import migrate_database
from companion.models import Site
from companion.sites import create_site

NOW = datetime(2027, 6, 1)  # after every order of the stream: the passes' clock


def io_counts() -> dict[str, int]:
    """This process's read and write calls so far (Linux /proc/self/io): what SQLite asked of the
    kernel, which a run's system time follows; empty where there is no such file."""
    try:
        text = Path("/proc/self/io").read_text()
    except OSError:
        return {}
    fields = dict(line.split(": ") for line in text.splitlines() if line)
    return {"reads": int(fields["syscr"]), "writes": int(fields["syscw"])}


def apply(
    url: str,
    events: list[dict[str, Any]],
    batch: int,
    profile: str | None = None,
    statements: tuple[str, ...] = (),
) -> float:
    """Store and apply `events` in passes of `batch`; the CPU seconds of applying them. Prints the
    user and system time and the read and write calls of the whole loop (storing too)."""
    runtime.configure(Settings(database_url=url, redis_url=None))
    db = bind_database(url)
    cpu = 0.0
    profiler = cProfile.Profile() if profile else None
    with db.connection_context():
        migrate_database(db)
        for statement in statements:
            db.execute_sql(statement)
        site = Site.select().first() or Site.get_by_id(
            create_site("History", "https://shop.example", currency="USD").site.id
        )
        calls, usage = io_counts(), resource.getrusage(resource.RUSAGE_SELF)
        for start in range(0, len(events), batch):
            ids = store_batch(site, events[start : start + batch], NOW).accepted_ids
            started = time.process_time()
            if profiler:
                profiler.enable()
            pipeline.process_events(ids, NOW)
            if profiler:
                profiler.disable()
            cpu += time.process_time() - started
        after, used = io_counts(), resource.getrusage(resource.RUSAGE_SELF)
        if events:
            print(
                f"storing and applying: user {used.ru_utime - usage.ru_utime:.2f} s, system "
                f"{used.ru_stime - usage.ru_stime:.2f} s, "
                + ", ".join(f"{after[k] - calls[k]:,} {k}" for k in calls)
            )
    db.close()
    if profiler and profile:
        profiler.dump_stats(profile)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=300_000)
    parser.add_argument("--customers", type=int, default=15_000)
    parser.add_argument("--more", type=int, default=2_000, help="orders applied after the history")
    parser.add_argument("--batch", type=int, default=1_000, help="events per pass (the import's)")
    parser.add_argument("--base", default="/tmp/profile-history.db", help="the built store")
    parser.add_argument("--profile", help="write a cProfile of the passes here")
    parser.add_argument(
        "--sql",
        action="append",
        default=[],
        help="a statement run on the copy's connection first (a PRAGMA, an index); repeatable",
    )
    args = parser.parse_args()
    base, later = Path(args.base), Path(args.base + ".later.pickle")
    if not base.exists() or not later.exists():
        stream = list(order_stream(args.history + 20_000, customers=args.customers))
        cpu = apply(f"sqlite:///{base}", stream[: args.history], args.batch)
        print(f"built {args.history:,} orders from {args.customers:,} buyers: {cpu:.0f} s CPU")
        later.write_bytes(pickle.dumps(stream[args.history :]))
        db = bind_database(f"sqlite:///{base}")
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # one file to copy
        db.close()
    events = pickle.loads(later.read_bytes())[: args.more]  # this script's own file
    heap.settle()
    work = Path(tempfile.mkdtemp(prefix="profile-history-")) / "store.db"
    shutil.copy(base, work)
    cpu = apply(f"sqlite:///{work}", events, args.batch, args.profile, tuple(args.sql))
    shutil.rmtree(work.parent)
    if events:
        per_order = cpu * 1000 / len(events)
        print(f"{len(events):,} more orders after {args.history:,}: {per_order:.3f} ms CPU each")


if __name__ == "__main__":
    main()
