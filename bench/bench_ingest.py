"""Sustained ingest, end to end: gunicorn (2 workers) accepting signed batches and one RQ worker
(or --workers N) applying them, against SQLite or PostgreSQL; compared with a bare bulk insert of
the same rows.

    .venv/bin/python -m bench.bench_ingest --engine sqlite --events 200000
    .venv/bin/python -m bench.bench_ingest --engine postgresql --events 200000
    .venv/bin/python -m bench.bench_ingest --engine postgresql --events 50000 --stream orders
    .venv/bin/python -m bench.bench_ingest --engine postgresql --events 40000 --workers 2

BENCH_REDIS_URL and BENCH_PG_DATABASE (default redis://127.0.0.1:6379/9 and companion_bench) keep
runs on a shared machine apart; BENCH_PORT sets gunicorn's port (default: any free one).

Prints events/s accepted and applied, the bare-insert rate, their ratio, and the RSS of the
web and worker processes sampled along the way (flat memory is the check for 1,000,000 events).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from bench.traffic import events as traffic
from bench.traffic import orders as order_stream
from companion.core import runtime
from companion.core.db import bind_database, database
from companion.core.settings import Settings
from companion.core.signing import sign
from companion.migrations import migrate_database
from companion.models import RawEvent
from companion.sites import create_site

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
REDIS_URL = os.environ.get(
    "BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"
)  # a shared machine: one db each
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "companion_bench")


def database_url(engine: str, folder: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{folder}/bench.db"
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qc",
            f"DROP DATABASE IF EXISTS {PG_DATABASE}",
        ],
        check=True,
    )
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {PG_DATABASE}"],
        check=True,
    )
    return f"postgresql://postgres@127.0.0.1:5432/{PG_DATABASE}"


def free_port() -> int:
    """BENCH_PORT when set (a shared machine gives each person a range), else any free port."""
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str) -> dict[str, Any]:
    runtime.configure(Settings(database_url=url, redis_url=REDIS_URL))
    db = bind_database(url)
    with db.connection_context():
        migrate_database(db)
        new = create_site("Bench", "https://shop.example", currency="USD")
    return {"id": new.site.public_id, "secret": new.secret, "pk": new.site.id}


def start_processes(
    url: str, port: int, folder: str, workers: int = 1
) -> list[subprocess.Popen[bytes]]:
    """gunicorn, then `workers` `companion worker` processes."""
    env = dict(
        os.environ,
        COMPANION_DATABASE_URL=url,
        COMPANION_REDIS_URL=REDIS_URL,
        COMPANION_SECRET_KEY="bench-secret-key-0123456789",
        COMPANION_LOG_LEVEL="WARNING",
    )
    subprocess.run(
        ["redis-cli", "-n", REDIS_URL.rsplit("/", 1)[1], "flushdb"], check=True, capture_output=True
    )
    log = open(f"{folder}/processes.log", "wb")  # noqa: SIM115 (the processes write to it until the end)
    web = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            "-w",
            "2",
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
    appliers = [
        subprocess.Popen(
            [str(VENV / "companion"), "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        for _ in range(workers)
    ]
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return [web, *appliers]
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start; see {folder}/processes.log")


def batches(count: int, size: int, stream: str = "traffic") -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for event in (order_stream if stream == "orders" else traffic)(count):
        batch.append(event)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def send_all(
    site: dict[str, Any], port: int, count: int, size: int, clients: int, stream: str = "traffic"
) -> tuple[int, int]:
    source, lock, totals = (
        batches(count, size, stream),
        threading.Lock(),
        {"accepted": 0, "duplicates": 0},
    )
    url = f"http://127.0.0.1:{port}/v1/sites/{site['id']}/events"

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                batch = next(source, None)
            if batch is None:
                return
            body = json.dumps({"events": batch}).encode()
            msg_id, stamp = uuid.uuid4().hex, int(time.time())
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "Content-Type": "application/json",
                "webhook-signature": sign(site["secret"], msg_id, stamp, body),
            }
            answer = session.post(url, data=body, headers=headers, timeout=60)
            if answer.status_code != 202:
                print(f"batch refused: {answer.status_code} {answer.text[:300]}")
                os._exit(1)
            with lock:
                totals["accepted"] += answer.json()["accepted"]
                totals["duplicates"] += answer.json()["duplicates"]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return totals["accepted"], totals["duplicates"]


def rss_mb(pid: int) -> float:
    """Own resident memory (RssAnon) of a process and its children (the RQ work horse), in MB."""
    total = 0
    pids = [pid] + [
        int(p)
        for p in subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
        ).stdout.split()
    ]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):  # not the SQLite file's mapped pages (OS cache)
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def unprocessed() -> int:
    return (
        RawEvent.select()
        .where(RawEvent.processed_at.is_null(), RawEvent.failed_at.is_null())
        .count()
    )


def bare_insert_rate(site_pk: int, count: int) -> float:
    """The practical limit: the same raw rows bulk-inserted, 500 a statement, no validation or
    apply."""

    class BareRawEvent(RawEvent):
        class Meta:
            table_name = "bench_bare_raw_event"

    database.drop_tables([BareRawEvent], safe=True)
    database.create_tables([BareRawEvent])
    rows = (
        {
            "site": site_pk,
            "event_id": e["id"],
            "type": e["type"],
            "source": e["source"],
            "occurred_at": e["occurred_at"].replace("T", " ").rstrip("Z"),
            "payload": json.dumps(e),
        }
        for e in traffic(count, seed=99)
    )
    started, chunk = time.perf_counter(), []
    for row in rows:
        chunk.append(row)
        if len(chunk) == 500:
            with database.atomic():
                BareRawEvent.insert_many(chunk).execute()
            chunk = []
    if chunk:
        BareRawEvent.insert_many(chunk).execute()
    rate = count / (time.perf_counter() - started)
    database.drop_tables([BareRawEvent])
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="`companion worker` processes")
    parser.add_argument(
        "--stream",
        choices=["traffic", "orders"],
        default="traffic",
        help="orders: paid orders of 1-5 items only, buyers new and returning (events = orders)",
    )
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-ingest-")
    url = database_url(args.engine, folder)
    site = prepare(url)
    port = free_port()
    web, *workers = start_processes(url, port, folder, args.workers)
    samples: list[str] = []
    try:
        started = time.perf_counter()
        sent: dict[str, float] = {}

        def send() -> None:
            accepted, duplicates = send_all(
                site, port, args.events, args.batch, args.clients, args.stream
            )
            sent["at"] = time.perf_counter() - started
            samples.append(
                f"all {accepted} accepted ({duplicates} duplicates) after {sent['at']:.1f} s: "
                f"{accepted / sent['at']:,.0f} events/s accepted"
            )

        sender = threading.Thread(target=send)
        sender.start()
        next_mark = 0.1
        while True:
            time.sleep(1)
            with database.connection_context():
                left = unprocessed()
            with database.connection_context():
                stored = RawEvent.select().count()
            done = (stored - left) / args.events
            if done >= next_mark:
                samples.append(
                    f"{int(done * 100)}% applied: web {rss_mb(web.pid)} MB, workers "
                    + ", ".join(f"{rss_mb(w.pid)} MB" for w in workers)
                )
                next_mark += 0.4 if next_mark < 0.5 else 0.5
            if not sender.is_alive() and left == 0:
                break
        elapsed = time.perf_counter() - started
        accepted_at = elapsed
    finally:
        for proc in (web, *workers):
            proc.terminate()
        for proc in (web, *workers):
            proc.wait(timeout=30)
    with database.connection_context():
        bare = bare_insert_rate(site["pk"], min(args.events, 200_000))
    rate = args.events / accepted_at
    print(
        f"engine={args.engine} stream={args.stream} events={args.events} batch={args.batch} "
        f"clients={args.clients} workers={args.workers} load={os.getloadavg()[0]:.1f}"
    )
    for line in samples:
        print("  " + line)
    print(f"end to end: {rate:,.0f} events/s accepted and applied ({accepted_at:.1f} s)")
    print(
        f"bare bulk insert of the same rows: {bare:,.0f} rows/s; ratio ingest/bare = "
        f"{rate / bare:.2f}"
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
