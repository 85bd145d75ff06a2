"""Apply throughput of N `companion worker` processes: many small deliveries over many sites are
stored first (no worker running, as a backlog builds under load), then the workers start and the
time until every event is applied is measured. Run it with --workers 1 and then 2 (issue 19,
"Scale out").

    .venv/bin/python -m bench.bench_drain --workers 1 --sites 200 --events 20000 \
        --database postgresql://postgres@127.0.0.1:5432/companion_bench_NAME \
        --redis redis://127.0.0.1:6379/N
    .venv/bin/python -m bench.bench_drain --workers 1 --sites 1 --events 20000 --stream orders ...

The database given is emptied first and the Redis db flushed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from bench.bench_ingest import prepare, rss_mb
from bench.bench_load import ROOT, VENV, emptied, more_sites, requests_due
from bench.traffic import orders as order_stream
from companion.core import runtime
from companion.core.db import database
from companion.core.settings import Settings
from companion.ingest.receive import store_batch
from companion.models import RawEvent, Site, utcnow
from jobs import events as event_jobs


def sale(sites: list[dict[str, Any]], events: int) -> Iterator[tuple[dict[str, Any], list[Any]]]:
    """Batches of 500 orders, as the plugin sends them, to the sites in turn."""
    source = list(order_stream(events))
    for n, start in enumerate(range(0, len(source), 500)):
        yield sites[n % len(sites)], source[start : start + 500]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--stream",
        choices=["traffic", "orders"],
        default="traffic",
        help="traffic: each site's mix in deliveries of 1-20 events; orders: batches of 500 orders "
        "(1-5 items, new and returning buyers), the sites in turn, as a sale or a history sync",
    )
    args = parser.parse_args()
    url = emptied(args.database)
    sites = [prepare(url), *more_sites(args.sites)]
    runtime.configure(Settings(database_url=url, redis_url=args.redis))
    subprocess.run(["redis-cli", "-u", args.redis, "flushdb"], check=True, capture_output=True)
    stored = deliveries = 0
    with database.connection_context():
        by_pk = {s.public_id: s for s in Site.select()}
        due = requests_due(sites, 10**9) if args.stream == "traffic" else sale(sites, args.events)
        for site, batch in due:
            result = store_batch(by_pk[site["id"]], batch, utcnow())
            stored += result.accepted
            if not hasattr(event_jobs, "schedule_site"):  # the code before passes: a job each
                runtime.enqueue(event_jobs.process_events, result.accepted_ids)
            deliveries += 1
            if stored >= args.events:
                break
        for site in by_pk.values():
            if hasattr(event_jobs, "schedule_site"):
                event_jobs.schedule_site(site.id)
    env = dict(
        os.environ,
        COMPANION_DATABASE_URL=url,
        COMPANION_REDIS_URL=args.redis,
        COMPANION_SECRET_KEY="bench-secret-key-0123456789",
        COMPANION_LOG_LEVEL="WARNING",
    )
    folder = tempfile.mkdtemp(prefix="bench-drain-")
    log = open(f"{folder}/workers.log", "wb")  # noqa: SIM115 (the workers write to it until the end)
    print(f"stored {stored} events in {deliveries} deliveries over {args.sites} sites")
    print(f"load average before: {os.getloadavg()}")
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [str(VENV / "companion"), "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        for _ in range(args.workers)
    ]
    try:
        left = stored
        while left:
            time.sleep(0.5)
            with database.connection_context():
                left = RawEvent.select().where(RawEvent.processed_at.is_null()).count()
        elapsed = time.perf_counter() - started
        memory = ", ".join(f"worker {n + 1} {rss_mb(w.pid)} MB" for n, w in enumerate(workers))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    passes = int(
        subprocess.run(
            ["redis-cli", "-u", args.redis, "zcard", "rq:finished:companion"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or 0
    )
    print(f"load average after: {os.getloadavg()}")
    print(
        f"workers={args.workers}: {stored} events applied in {elapsed:.1f} s = "
        f"{stored / elapsed:,.0f} events/s ({deliveries / elapsed:,.0f} deliveries/s); "
        f"{passes} passes finished; {memory}"
    )


if __name__ == "__main__":
    main()
