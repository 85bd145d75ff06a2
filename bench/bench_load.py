"""Steady load at a fixed request rate, as many stores' plugins send it: signed batches of 1 to 20
events of mixed kinds (views, carts, orders, refunds from bench/traffic.py), at --rate requests per
second for --seconds, open loop (a request is due at its time whether or not earlier ones answered,
and its latency counts from that time, so a stall shows in the figures instead of slowing the load).

    # production split: gunicorn + 2 `companion worker` + PostgreSQL (own database and Redis db)
    .venv/bin/python -m bench.bench_load --mode split --rate 200 --seconds 300 \
        --database postgresql://postgres@127.0.0.1:5432/companion_test_NAME \
        --redis redis://127.0.0.1:6379/N
    # many stores: the same load spread over 200 sites in one database (an agency's service)
    .venv/bin/python -m bench.bench_load --mode split --sites 200 --rate 200 --seconds 300 ...
    # embedded: `companion run` on SQLite, in-process queue
    .venv/bin/python -m bench.bench_load --mode embedded --rate 50 --seconds 60

Prints the machine's load average before and after, answers by status, latency p50/p95/p99/max,
events sent, accepted and stored, how long the workers took to apply the backlog after the load
stopped, and the resident memory of the web and worker processes when the load starts and when the
backlog is applied (flat memory). The database given is emptied first.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from peewee import PostgresqlDatabase

from bench.bench_ingest import free_port, prepare, rss_mb
from bench.traffic import events as traffic
from companion.core.db import database
from companion.core.signing import sign
from companion.models import RawEvent
from companion.sites import create_site

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
SIZES = [1, 1, 1, 2, 2, 3, 5, 8, 13, 20]  # mean 5.6 events a batch: most deliveries are small
GIVE_UP_S = 30  # a request this late is not sent (and counted as an error), so a run ends on time


def emptied(url: str) -> str:
    if url.startswith("postgresql://"):
        db = PostgresqlDatabase(url.rsplit("/", 1)[1], host="127.0.0.1", user="postgres")
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        db.close()
    return url


def start(
    mode: str, url: str, redis_url: str | None, port: int, folder: str, web: int, workers: int
) -> list[Any]:
    env = dict(
        os.environ,
        COMPANION_DATABASE_URL=url,
        COMPANION_SECRET_KEY="bench-secret-key-0123456789",
        COMPANION_LOG_LEVEL="WARNING",
    )
    env.pop("COMPANION_REDIS_URL", None)
    log = open(f"{folder}/processes.log", "wb")  # noqa: SIM115 (the processes write to it until the end)
    if mode == "embedded":
        procs = [
            subprocess.Popen(
                [str(VENV / "companion"), "run", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        ]
    else:
        assert redis_url, "--redis is needed for the production split"
        env["COMPANION_REDIS_URL"] = redis_url
        subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)
        procs = [
            subprocess.Popen(
                [
                    str(VENV / "gunicorn"),
                    "-w",
                    str(web),
                    "-b",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        ]
        procs += [
            subprocess.Popen(
                [str(VENV / "companion"), "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
            for _ in range(workers)
        ]
    for _ in range(150):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return procs
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"the service did not start; see {folder}/processes.log")


def more_sites(count: int) -> list[dict[str, Any]]:
    """Sites after the first (`prepare` made it and bound the database)."""
    with database.connection_context():
        made = [
            create_site(f"Bench {n}", f"https://shop{n}.example", currency="USD")
            for n in range(1, count)
        ]
    return [{"id": m.site.public_id, "secret": m.secret, "pk": m.site.id} for m in made]


def requests_due(
    sites: list[dict[str, Any]], total_requests: int, seed: int = 16
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(site, batch) per request: each site has its own store's traffic; sites drawn at random."""
    rng = random.Random(seed)
    streams = [traffic(10**9, seed=seed + n) for n in range(len(sites))]
    for _ in range(total_requests):
        n = rng.randrange(len(sites))
        yield sites[n], [next(streams[n]) for _ in range(rng.choice(SIZES))]


def load(
    sites: list[dict[str, Any]], port: int, rate: float, seconds: float, senders: int
) -> dict[str, Any]:
    total = int(rate * seconds)
    due: queue.Queue[tuple[float, bytes, int, dict[str, Any]] | None] = queue.Queue()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    counts = {"sent": 0, "accepted": 0, "unsent": 0}
    lock = threading.Lock()

    def sender() -> None:
        session = requests.Session()
        while (item := due.get()) is not None:
            at, body, size, site = item
            if (
                time.perf_counter() - at > GIVE_UP_S
            ):  # the service fell this far behind: count, do not send
                with lock:
                    statuses["not sent (over 30 s late)"] += 1
                    counts["unsent"] += size
                continue
            msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "Content-Type": "application/json",
                "webhook-signature": sign(site["secret"], msg_id, stamp, body),
            }
            url = f"http://127.0.0.1:{port}/v1/sites/{site['id']}/events"
            try:
                answer = session.post(url, data=body, headers=headers, timeout=30)
                status, accepted = str(answer.status_code), answer.json().get("accepted", 0)
            except (requests.RequestException, ValueError) as exc:
                status, accepted = type(exc).__name__, 0
            with lock:
                latencies.append(time.perf_counter() - at)  # from when it was due
                statuses[status] += 1
                counts["sent"] += size
                counts["accepted"] += accepted

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    for n, (site, batch) in enumerate(requests_due(sites, total)):
        body = json.dumps({"events": batch}).encode()
        at = started + n / rate
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due.put((at, body, len(batch), site))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "requests": total,
        "elapsed": time.perf_counter() - started,
        "statuses": dict(statuses),
        "latencies": latencies,
        **counts,
    }


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] * 1000


def stored() -> tuple[int, int]:
    with database.connection_context():
        return (
            RawEvent.select().count(),
            RawEvent.select()
            .where(RawEvent.processed_at.is_null(), RawEvent.failed_at.is_null())
            .count(),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["split", "embedded"], default="split")
    parser.add_argument("--database", help="default: a fresh SQLite file")
    parser.add_argument("--redis", help="Redis URL for the split (its db is flushed)")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--web", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--workers", type=int, default=2, help="`companion worker` processes")
    parser.add_argument("--senders", type=int, default=64, help="client threads")
    parser.add_argument("--drain", type=float, default=600, help="seconds to wait for the backlog")
    parser.add_argument("--sites", type=int, default=1, help="sites sharing the load")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-load-")
    url = emptied(args.database or f"sqlite:///{folder}/bench.db")
    sites = [prepare(url), *more_sites(args.sites)]
    port = free_port()
    procs = start(args.mode, url, args.redis, port, folder, args.web, args.workers)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run stops its processes too
    print(
        f"mode={args.mode} database={url.split('://')[0]} rate={args.rate}/s "
        f"seconds={args.seconds} "
        f"web={args.web} workers={args.workers} sites={args.sites}"
    )
    print(f"load average before: {os.getloadavg()}")
    try:
        memory = [f"at the start: {rss(procs)}"]
        result = load(sites, port, args.rate, args.seconds, args.senders)
        print(f"load average at the end of the load: {os.getloadavg()}")
        memory.append(f"at the end of the load: {rss(procs)}")
        report(result)
        drained_at, waited = time.perf_counter(), 0.0
        count, left = stored()
        print(
            f"events stored {count} of {result['sent']} sent (lost {result['sent'] - count}); "
            f"{left} waiting to be applied",
            flush=True,
        )
        while left and waited < args.drain:
            time.sleep(5)
            count, left = stored()
            waited = time.perf_counter() - drained_at
        print(f"backlog applied {waited:.1f} s after the load stopped; still unapplied: {left}")
        memory.append(f"after the backlog: {rss(procs)}")
        print("resident memory (MB), " + "; ".join(memory))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def rss(procs: list[Any]) -> str:
    """Resident memory of the web (gunicorn and its workers) and of each worker process."""
    return ", ".join(
        f"{'web' if n == 0 else f'worker {n}'} {rss_mb(proc.pid)}" for n, proc in enumerate(procs)
    )


def report(result: dict[str, Any]) -> None:
    lat = result["latencies"] or [0.0]
    errors = sum(n for status, n in result["statuses"].items() if status != "202")
    print(
        f"requests {result['requests']} in {result['elapsed']:.1f} s "
        f"({result['requests'] / result['elapsed']:.1f}/s); answers {result['statuses']}; errors "
        f"{errors}"
    )
    print(
        f"latency ms: p50 {percentile(lat, 0.50):.1f}  p95 {percentile(lat, 0.95):.1f}  "
        f"p99 {percentile(lat, 0.99):.1f}  max {lat[-1] * 1000:.1f}"
    )
    print(
        f"events sent {result['sent']}, accepted {result['accepted']}, not sent {result['unsent']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
