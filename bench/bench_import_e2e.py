"""Benchmark: `companion import woocommerce` end to end, from a local WooCommerce-shaped shop into
profiles: REST pages -> mapping -> store_batch -> processing (contacts, orders, refunds, roll-ups).

    .venv/bin/python -m bench.bench_import_e2e --engine sqlite --orders 200000
    .venv/bin/python -m bench.bench_import_e2e --engine postgresql --orders 200000
    .venv/bin/python -m bench.bench_import_e2e --engine mariadb --orders 200000
    .venv/bin/python -m bench.bench_import_e2e --engine sqlite --orders 1000000 --dated

The shop (bench/bench_import.py's generator: 100 orders per page, 1 in 20 refunded, 50,000 buyers)
runs in its own process. Its orders all carry the documented order's dates unless --dated spreads
them over four years in id order, as a real history is: then each buyer's orders fall on ~20
different days and months, which is what the per-customer work (totals, days, cohorts) costs.
The import runs as a user runs it: the real command in a subprocess, in embedded mode (no
COMPANION_REDIS_URL), so it applies the pages itself as it goes and profiles are complete when it
exits. Prints orders/s end to end and the command's RSS sampled over the run
and of its applying process sampled over the run (flat means they stream), and the CPU time the two
used, then checks that every order and refund reached the database, applied.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peewee import fn

from bench.bench_import import FIRST_ID, GeneratedOrders, GeneratedRefunds
from companion.core import runtime
from companion.core.db import bind_database, database
from companion.core.settings import Settings
from companion.migrations import migrate_database
from companion.models import Contact, Order, RawEvent, Refund
from companion.models.base import money_from_units
from companion.sites import create_site
from tests.woocommerce.woo_fake_shop import KEY, SECRET, FakeShop

BENCH_DB = "companion_woo_bench"


def database_url(engine: str, folder: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{folder}/bench.db"
    if engine == "mariadb":
        for sql in (f"DROP DATABASE IF EXISTS {BENCH_DB}", f"CREATE DATABASE {BENCH_DB}"):
            subprocess.run(["mysql", "-h", "127.0.0.1", "-u", "root", "-e", sql], check=True)
        return f"mysql://root@127.0.0.1:3306/{BENCH_DB}"
    for sql in (f"DROP DATABASE IF EXISTS {BENCH_DB}", f"CREATE DATABASE {BENCH_DB}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
    return f"postgresql://postgres@127.0.0.1:5432/{BENCH_DB}"


def serve(count: int, urls: Any, dated: bool = False) -> None:
    """The shop: generated orders, and no products or customers (the command asks for all three)."""
    collections: dict[str, Any] = {
        "orders": GeneratedOrders(count, dated),
        "products": [],
        "customers": [],
    }
    refunds = GeneratedRefunds(count, dated)
    urls.put(FakeShop(collections, refunds).start().url)  # type: ignore[arg-type]
    while True:
        time.sleep(3600)


def prepare(url: str) -> str:
    """Migrate the database and create the site; returns its id."""
    runtime.configure(Settings(database_url=url))
    db = bind_database(url)
    with db.connection_context():
        migrate_database(db)
        return create_site("Bench shop", "https://shop.example").site.public_id


def rss_mb(pid: int) -> float | None:
    """The process's own resident memory (RssAnon): SQLite reads the database through a memory
    map, whose pages count in VmRSS but are the OS's file cache, not the process's memory."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(
        (int(line.split()[1]) / 1024 for line in text.splitlines() if line.startswith("RssAnon:")),
        None,
    )


def applying_child(pid: int) -> int | None:
    """The command's applying process (spawned; not multiprocessing's resource tracker)."""
    for children in Path(f"/proc/{pid}").glob("task/*/children"):
        for child in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in cmdline:
                return int(child)
    return None


class RssSampler(threading.Thread):
    """Samples the RssAnon of a process and of its applying process every `every` seconds until it
    exits."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self.child_samples: list[tuple[float, float]] = []
        self.started = time.perf_counter()

    def run(self) -> None:
        child = None
        while (rss := rss_mb(self.pid)) is not None:  # a zombie has no memory left to report
            now = time.perf_counter() - self.started
            self.samples.append((now, rss))
            child = child or applying_child(self.pid)
            if child is not None and (child_rss := rss_mb(child)) is not None:
                self.child_samples.append((now, child_rss))
            time.sleep(self.every)

    def at(self, fraction: float, child: bool = False) -> float:
        samples = self.child_samples if child else self.samples
        end = self.samples[-1][0]
        return next((rss for t, rss in samples if t >= end * fraction), samples[-1][1])


def run_import(
    url: str, site_id: str, shop_url: str, folder: str
) -> tuple[float, RssSampler, str, float]:
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": url,
        "COMPANION_SECRET_KEY": "bench-secret-key-0123456789",
        "COMPANION_LOG_LEVEL": "WARNING",
    }
    env.pop("COMPANION_REDIS_URL", None)
    command = [
        str(ROOT / ".venv" / "bin" / "companion"),
        "import",
        "woocommerce",
        "--site",
        site_id,
        "--url",
        shop_url,
        "--key",
        KEY,
        "--secret",
        SECRET,
        "--no-progress",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    sampler = RssSampler(process.pid)
    sampler.start()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}):\n{output}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its applying process
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, sampler, output, cpu


def check(count: int) -> dict[str, Any]:
    """Everything the shop served is in the database and applied; returns the figures."""
    refunds = len([n for n in range(count) if n % 20 == 0])
    found = {
        "orders": Order.select().count(),
        "refunds": Refund.select().count(),
        "contacts": Contact.select().count(),
        "unapplied": RawEvent.select().where(RawEvent.processed_at.is_null()).count(),
        "refunded": money_from_units(
            Contact.select(fn.SUM(Contact.refunded).coerce(False)).scalar()
        ),
    }
    assert found["orders"] == count and found["refunds"] == refunds and found["unapplied"] == 0, (
        found
    )
    assert found["refunded"] == Decimal("5.00") * refunds, found
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "mariadb"), default="sqlite")
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument(
        "--dated",
        action="store_true",
        help="orders over four years in id order (a real history) instead of all at one moment",
    )
    args = parser.parse_args()
    urls: Any = multiprocessing.Queue()
    shop = multiprocessing.Process(target=serve, args=(args.orders, urls, args.dated), daemon=True)
    shop.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            bench(args.engine, args.orders, urls.get(timeout=30), folder, shop.pid)
    finally:
        shop.terminate()


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a running process has used so far, from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(engine: str, count: int, shop_url: str, folder: str, shop_pid: int | None = None) -> None:
    url = database_url(engine, folder)
    site_id = prepare(url)
    shop_before = process_cpu(shop_pid)
    elapsed, rss, output, cpu = run_import(url, site_id, shop_url, folder)
    shop_cpu = process_cpu(shop_pid) - shop_before
    with database.connection_context():
        found = check(count)
    print(output.strip())
    print(
        f"{engine}: {count:,} orders (ids from {FIRST_ID}) imported and applied in {elapsed:.1f} "
        "s: "
        f"{count / elapsed:,.0f} orders/s end to end; {found['contacts']:,} profiles, "
        f"{found['refunds']:,} refunds, 0 events left unapplied"
    )
    print(
        f"CPU of the command and its applying process: {cpu:.1f} s, {cpu / count * 1000:.2f} ms "
        "per order "
        f"(the database server's own CPU not included); {cpu / elapsed:.2f} cores busy on average"
    )
    print(
        f"CPU of the local shop serving the pages (WooCommerce's, elsewhere in production): "
        f"{shop_cpu:.1f} s, {shop_cpu / count * 1000:.2f} ms per order, "
        f"{shop_cpu / elapsed:.2f} cores on average"
    )
    print(
        "command RSS MB (anonymous) at 10% / 50% / 100% of the run: "
        + " / ".join(f"{rss.at(p):.1f}" for p in (0.1, 0.5, 1.0))
        + f"; peak {max(r for _, r in rss.samples):.1f}"
    )
    if rss.child_samples:
        print(
            "applying process RSS MB (anonymous) at 10% / 50% / 100% of the run: "
            + " / ".join(f"{rss.at(p, child=True):.1f}" for p in (0.1, 0.5, 1.0))
            + f"; peak {max(r for _, r in rss.child_samples):.1f}"
        )


if __name__ == "__main__":
    main()
