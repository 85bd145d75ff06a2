"""Where applying a batch spends its time, in one process: store a stream of events (batches of
500, as the plugin sends them), then apply each batch with `pipeline.process_events`, counting
SQL statements per batch and, with --profile, printing cProfile's top functions.

    .venv/bin/python -m bench.profile_apply --events 20000
    .venv/bin/python -m bench.profile_apply --stream orders --events 10000 \
        --database-url postgresql://...
    .venv/bin/python -m bench.profile_apply --events 20000 --profile tottime

The database is emptied first (SQLite: a temp file; other engines: the URL's database is dropped
and created again, so give it a bench database). Timings depend on the machine's load; statements,
function calls and the CPU time of applying (process_time, printed per event) much less.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import tempfile
import time
from collections import Counter
from typing import Any, Self

from bench.traffic import events as traffic
from bench.traffic import orders as order_stream
from companion import pipeline
from companion.core import runtime
from companion.core.db import bind_database, database
from companion.core.settings import Settings
from companion.ingest.receive import store_batch
from companion.migrations import migrate_database
from companion.models import Site, utcnow
from companion.sites import create_site


def fresh_database(url: str) -> None:
    if url.startswith("postgresql://"):
        name = url.rsplit("/", 1)[1]
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
    elif url.startswith("mysql://"):
        name = url.rsplit("/", 1)[1]
        subprocess.run(
            [
                "mysql",
                "-h",
                "127.0.0.1",
                "-u",
                "root",
                "-e",
                f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}",
            ],
            check=True,
        )


WORDS, CHARS = 3, 48  # how much of a statement names its kind (--words widens it)


class CountingCursor:
    """A driver cursor that counts its calls: one `execute` or `executemany` is one trip to the
    database (psycopg2's execute_batch joins 100 statements into one `execute`)."""

    def __init__(self, cursor: Any, counts: Counter[str], seconds: Counter[str]) -> None:
        self._cursor, self._counts, self._seconds = cursor, counts, seconds

    def _run(self, sql: Any, many: bool, *args: Any) -> Any:
        text = sql.decode(errors="replace") if isinstance(sql, bytes) else str(sql)
        kind = ("many: " if many else "") + " ".join(text.split()[:WORDS])[:CHARS]
        self._counts[kind] += 1
        started = time.perf_counter()
        try:
            return (self._cursor.executemany if many else self._cursor.execute)(sql, *args)
        finally:
            self._seconds[kind] += time.perf_counter() - started

    def execute(self, sql: Any, *args: Any) -> Any:
        return self._run(sql, False, *args)

    def executemany(self, sql: Any, *args: Any) -> Any:
        return self._run(sql, True, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)


class StatementCounter:
    """Counts the trips to the database, by the statement's first words."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = (
            Counter()
        )  # inside the driver: the database's time, and the trip
        self._database = database.obj
        self._original = self._database.cursor

    def __enter__(self) -> Self:
        def counting(*args: Any, **kwargs: Any) -> Any:
            return CountingCursor(self._original(*args, **kwargs), self.counts, self.seconds)

        self._database.cursor = counting
        return self

    def __exit__(self, *exc: object) -> None:
        self._database.cursor = self._original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--stream", choices=["traffic", "orders"], default="traffic")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", choices=["tottime", "cumulative"])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--only", help="a regular expression the printed functions' names must match"
    )
    parser.add_argument("--dump", help="also write the profile to this file (pstats format)")
    parser.add_argument(
        "--words", type=int, default=3, help="a statement's first N words name its kind"
    )
    args = parser.parse_args()
    global WORDS, CHARS
    WORDS, CHARS = args.words, max(48, args.words * 16)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='profile-apply-')}/bench.db"
    fresh_database(url)
    runtime.configure(Settings(database_url=url, redis_url=None))
    db = bind_database(url)
    source = list((order_stream if args.stream == "orders" else traffic)(args.events))
    with db.connection_context():
        migrate_database(db)
        site = Site.get_by_id(create_site("Bench", "https://shop.example", currency="USD").site.id)
        batches = [source[i : i + args.batch] for i in range(0, len(source), args.batch)]
        stored, store_s = [], 0.0
        with StatementCounter() as storing:
            for batch in batches:
                started = time.perf_counter()
                stored.append(store_batch(site, batch, utcnow()).accepted_ids)
                store_s += time.perf_counter() - started
        profiler = cProfile.Profile() if args.profile else None
        applied, apply_s, apply_cpu = 0, 0.0, 0.0
        with StatementCounter() as counter:
            for ids in stored:
                started, cpu = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                applied += pipeline.process_events(ids, utcnow())
                if profiler:
                    profiler.disable()
                apply_s += time.perf_counter() - started
                apply_cpu += time.process_time() - cpu
    unit = "orders" if args.stream == "orders" else "events"
    print(f"{url.split(':')[0]} stream={args.stream} {unit}={args.events} batches={len(stored)}")
    print(
        f"store: {args.events / store_s:,.0f} {unit}/s; apply: {applied / apply_s:,.0f} {unit}/s "
        f"({apply_s:.2f} s for {applied}); CPU of applying: {apply_cpu * 1000 / applied:.3f} ms "
        f"per {unit[:-1]}"
    )
    print(
        "trips to the database per batch while storing: "
        f"{sum(storing.counts.values()) / len(stored):.1f}"
    )
    total = sum(counter.counts.values())
    print(f"trips to the database per batch while applying: {total / len(stored):.1f}")
    print(f"  {'per batch':>9}  {'ms each':>8}  statement")
    for kind, n in counter.counts.most_common(args.top):
        print(f"  {n / len(stored):9.1f}  {counter.seconds[kind] * 1000 / n:8.2f}  {kind}")
    print(f"time inside the driver: {sum(counter.seconds.values()):.2f} s of {apply_s:.2f} s")
    print(f"  {'ms per batch':>12}  {'share':>5}  statement (the most time inside the driver)")
    for kind, seconds in counter.seconds.most_common(args.top):
        print(f"  {seconds * 1000 / len(stored):12.1f}  {seconds / apply_s:5.0%}  {kind}")
    if profiler:
        stats = pstats.Stats(profiler)
        print(
            f"function calls: {stats.total_calls:,} ({stats.total_calls / applied:,.0f} per "
            f"{unit[:-1]})"
        )
        if args.dump:
            stats.dump_stats(args.dump)
        restrictions = [args.only, args.top] if args.only else [args.top]
        stats.sort_stats(args.profile).print_stats(*restrictions)


if __name__ == "__main__":
    main()
