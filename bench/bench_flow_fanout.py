"""Flow fan-out benchmark: a VIP send to 100,000 contacts through the whole flow path, 2 workers.

    .venv/bin/python bench/bench_flow_fanout.py       # PostgreSQL, 100,000, starts Prism
    .venv/bin/python bench/bench_flow_fanout.py -n 10000 --host http://127.0.0.1:4010

Unlike bench_fanout.py (rendering and SendGrid requests only), this runs what production runs:
the VIP scan enrols every contact in stage `vip`, the tick hands out the due steps in jobs of
1,000, and each worker process claims its steps, checks the rules, renders the shared body once,
records every message (intent) in one transaction per job, and sends 1,000 personalizations per
request to Prism playing SendGrid, then records the answers. Target: under 5 minutes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

from bench.bench_flow_tick import fresh_schema
from companion.core.db import bind_database, database
from companion.email.sendgrid import SendGridTransport
from companion.flows.backlog import live_since
from companion.flows.config import SITE_KEY, Configs, save_changes
from companion.flows.lifecycle import scan_vip
from companion.flows.sending import SendRun, send_steps
from companion.flows.tick import JOB_SIZE, due_step_ids
from companion.models import Contact, Message, Site, utcnow
from companion.sites import create_site

ROOT = Path(__file__).resolve().parents[1]
NOW = utcnow()
PUBLIC_URL, SECRET = "https://companion.example.com", b"bench-secret-bench-secret-bench!"


def _start_prism(port: int) -> tuple[str, int]:
    out = subprocess.run(
        [str(ROOT / "scripts" / "prism.sh"), str(port)], check=True, capture_output=True, text=True
    ).stdout
    url, pid = re.search(r"PRISM_URL=(\S+)", out), re.search(r"PRISM_PID=(\d+)", out)
    assert url and pid, out
    return url.group(1), int(pid.group(1))


def prepare(url: str, n: int) -> Site:
    sys.path.insert(0, str(ROOT))
    db = bind_database(url)
    with db.connection_context():
        fresh_schema(db)
        site = create_site("Bench Roasters", "https://shop.example.com").site
        save_changes(site, SITE_KEY, {"quiet_hours": None})
        rows = [
            {
                "site": site.id,
                "email": f"customer{i}@example.com",
                "first_name": f"Customer {i}",
                "stage": "vip",
                "orders_count": 6,
            }
            for i in range(n)
        ]
        for start in range(0, n, 2000):
            with database.atomic():
                Contact.insert_many(rows[start : start + 2000]).execute()
        return site


def work(url: str, host: str, ids: list[int]) -> dict[str, int]:
    """One worker process's job: the same call jobs.flows.send_steps makes."""
    db = bind_database(url)
    with db.connection_context():
        run = SendRun(
            now=NOW,
            public_url=PUBLIC_URL,
            secret=SECRET,
            transport=SendGridTransport("SG.bench", host, 60.0),
        )
        return send_steps(ids, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/companion_flowfanout"
    )
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--host", help="a running Prism/SendGrid base URL (else one is started)")
    parser.add_argument("--port", type=int, default=4098)
    args = parser.parse_args()
    prepare(args.database_url, args.n)
    host, pid = (args.host, None) if args.host else _start_prism(args.port)
    try:
        run(args.database_url, host, args.n, args.workers)
    finally:
        if pid:
            subprocess.run(["kill", str(pid)], check=False)


def run(url: str, host: str, n: int, workers: int) -> None:
    with bind_database(url).connection_context():
        began = time.perf_counter()
        site = Site.get()
        # The VIP flow has run since yesterday, so these VIPs are new ones, not a first start's
        # backlog.
        live_since(site.id, Configs().flow(site, "vip"), NOW - timedelta(days=1))
        enrolled = scan_vip(site, Configs(), NOW)
        ids = due_step_ids(NOW, limit=n)
        scanned = time.perf_counter()
    jobs = [ids[i : i + JOB_SIZE] for i in range(0, len(ids), JOB_SIZE)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(work, [url] * len(jobs), [host] * len(jobs), jobs))
    sent_at = time.perf_counter()
    with bind_database(url).connection_context():
        statuses = {
            s: Message.select().where(Message.status == s).count()
            for s in ("sent", "failed", "sending")
        }
    sent = sum(r.get("sent", 0) for r in results)
    print(f"contacts: {n:,}  enrolled by the VIP scan: {enrolled:,} in {scanned - began:.1f} s")
    print(
        f"workers: {workers}  jobs: {len(jobs)} of {JOB_SIZE}  send wall time: "
        f"{sent_at - scanned:.1f} s"
    )
    print(f"messages: {statuses}  throughput: {sent / (sent_at - scanned):,.0f} messages/s")
    print(f"total (scan + send): {sent_at - began:.1f} s (target < 300 s)")


if __name__ == "__main__":
    main()
