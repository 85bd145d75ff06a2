"""Metrics benchmark: a store of 1,000,000 orders / ~2,500,000 items / 200,000 customers / 5,000
products, bulk-loaded as model rows, then `rollups rebuild` timed, then p50/p95 of the metric routes
through the Flask test client, and the same figures computed by DuckDB scanning the raw orders.

    .venv/bin/python bench/bench_metrics.py                                   # SQLite, full size
    .venv/bin/python bench/bench_metrics.py --orders 100000                   # smaller
    .venv/bin/python bench/bench_metrics.py \
        --database-url postgresql://postgres@127.0.0.1:5432/companion_metrics_bench

The database is emptied first (use a database of its own). DuckDB: `pip install duckdb` (bench
only).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.bench_metrics_data import (
    END,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    REFUND_COLUMNS,
    generate,
    load,
)
from companion.app import create_app
from companion.core.db import bind_database, database, is_postgres
from companion.core.settings import Settings
from companion.metrics.rebuild import rebuild_site
from companion.migrations import SchemaVersion, migrate_database
from companion.models import Site, utcnow
from companion.sites import create_site, hash_token
from tests.helpers import all_models

TZ = "Europe/Berlin"
CASES = (
    "/metrics 90 days, compare=previous",
    "/metrics/series 3 years by day",
    "/metrics/breakdown by product, 90 days",
)
LAST_DAY = END.date() - timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=None, help="default: a new SQLite file in a temp folder"
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    site, db = _fresh_site(url)
    began = time.perf_counter()
    counts = generate(folder, site.id, args.orders)
    print(f"generated {counts} in {time.perf_counter() - began:.1f}s ({folder})")
    began = time.perf_counter()
    load(db, folder, url.startswith("postgres"))
    print(f"bulk-loaded in {time.perf_counter() - began:.1f}s")
    _rebuild(site)
    routes = _measure_routes(url, site, args.runs)
    scans = _measure_duckdb(folder, args.runs)
    _report(url, counts, routes, scans)


def _fresh_site(url: str) -> Any:
    db = bind_database(url)
    db.connect(reuse_if_open=True)
    db.drop_tables([SchemaVersion, *all_models()], safe=True, cascade=url.startswith("postgres"))
    migrate_database(db)
    new = create_site("Bench", "https://bench.example", timezone=TZ, currency="EUR")
    return Site.get_by_id(new.site.id), db


def _rebuild(site: Any) -> None:
    began = time.perf_counter()
    steps = rebuild_site(site, utcnow())
    print(f"rollups rebuild: {time.perf_counter() - began:.1f}s  {steps}")
    _analyze()


def _analyze() -> None:
    """What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does after a big write."""
    if is_postgres():
        connection = database.connection()
        was = connection.autocommit
        connection.autocommit = True
        connection.cursor().execute("VACUUM ANALYZE")
        connection.autocommit = was
    else:
        database.execute_sql("ANALYZE")


def _windows(runs: int, days: int) -> list[tuple[date, date]]:
    rng = random.Random(1)
    first_possible = LAST_DAY - timedelta(days=3 * 365 - 2 * days)
    out = []
    for _ in range(runs):
        start = first_possible + timedelta(
            days=rng.randrange((LAST_DAY - first_possible).days - days)
        )
        out.append((start, start + timedelta(days=days - 1)))
    return out


def _measure_routes(url: str, site: Any, runs: int) -> dict[str, list[float]]:
    token = "sc_bench_token"
    Site.update(api_token_hash=hash_token(token)).where(Site.id == site.id).execute()
    client = create_app(Settings(database_url=url), migrate=False).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/v1/sites/{site.public_id}"
    three_years = (LAST_DAY - timedelta(days=3 * 365 - 1), LAST_DAY)
    paths: list[Callable[[tuple[date, date]], str]] = [
        lambda w: f"{base}/metrics?from={w[0]}&to={w[1]}&compare=previous",
        lambda w: (
            f"{base}/metrics/series?metric=total_revenue&interval=day&from={three_years[0]}&to={three_years[1]}"
        ),
        lambda w: f"{base}/metrics/breakdown?by=product&from={w[0]}&to={w[1]}",
    ]
    cases = dict(zip(CASES, paths, strict=True))
    timings: dict[str, list[float]] = {}
    for name, path in cases.items():
        for window in _windows(3, 90):  # warm-up
            assert client.get(path(window), headers=headers).status_code == 200
        timings[name] = []
        for window in _windows(runs, 90):
            began = time.perf_counter()
            answer = client.get(path(window), headers=headers)
            timings[name].append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.json
    return timings


def _measure_duckdb(folder: Path, runs: int) -> dict[str, list[float]] | str:
    try:
        import duckdb  # optional: the comparison runs only where it is installed
    except ImportError:
        return "duckdb is not installed (pip install duckdb): no scan figures"
    con = duckdb.connect()
    for table, columns in (
        ("order", ORDER_COLUMNS),
        ("order_item", ITEM_COLUMNS),
        ("refund", REFUND_COLUMNS),
    ):
        con.execute(
            f"CREATE TABLE \"{table}\" AS SELECT * FROM read_csv('{folder}/{table}.csv', "
            "header=false, "
            f"nullstr='', names={columns!r})"
        )
    timings: dict[str, list[float]] = {name: [] for name in CASES}
    three_years = (LAST_DAY - timedelta(days=3 * 365 - 1), LAST_DAY)
    for window in _windows(runs, 90):
        queries = (_duck_headline(window), _duck_series(three_years), _duck_breakdown(window))
        for name, query in zip(CASES, queries, strict=True):
            began = time.perf_counter()
            con.execute(query).fetchall()
            timings[name].append((time.perf_counter() - began) * 1000)
    return timings


LOCAL = f"CAST(timezone('{TZ}', CAST({{}} AS TIMESTAMP) AT TIME ZONE 'UTC') AS DATE)"


def _duck_headline(window: tuple[date, date]) -> str:
    first, last = window
    before = first - timedelta(days=(last - first).days + 1)
    day, refund_day = LOCAL.format("o.counted_at"), LOCAL.format("f.created_at")
    return f"""
    WITH o AS (SELECT o.id, o.contact_id, o.total, {day} AS d FROM "order" o WHERE o.is_counted = 1
    AND o.currency = 'EUR'),
         r AS (SELECT f.order_id, f.amount, {refund_day} AS d FROM refund f JOIN o ON o.id =
         f.order_id),
         per_order AS (SELECT order_id, SUM(amount) AS amount FROM r GROUP BY order_id)
    SELECT
      (SELECT SUM(total) FROM o WHERE d BETWEEN DATE '{first}' AND DATE '{last}'),
      (SELECT COUNT(*) FROM o WHERE d BETWEEN DATE '{first}' AND DATE '{last}'),
      (SELECT SUM(total) FROM o WHERE d BETWEEN DATE '{before}' AND DATE '{first}' - 1),
      (SELECT COUNT(*) FROM o WHERE d BETWEEN DATE '{before}' AND DATE '{first}' - 1),
      (SELECT SUM(amount) FROM r WHERE d BETWEEN DATE '{first}' AND DATE '{last}'),
      (SELECT SUM(amount) FROM r WHERE d BETWEEN DATE '{before}' AND DATE '{first}' - 1),
      (SELECT COUNT(p.order_id) FROM o JOIN per_order p ON p.order_id = o.id
         WHERE o.d BETWEEN DATE '{first}' AND DATE '{last}'),
      (SELECT SUM(p.amount) FROM o JOIN per_order p ON p.order_id = o.id
         WHERE o.d BETWEEN DATE '{first}' AND DATE '{last}'),
      (SELECT COUNT(*) FROM (SELECT DISTINCT contact_id FROM o WHERE d BETWEEN DATE '{before}' AND
      DATE '{first}' - 1
         INTERSECT SELECT DISTINCT contact_id FROM o WHERE d BETWEEN DATE '{first}' AND DATE
         '{last}')),
      (SELECT COUNT(DISTINCT contact_id) FROM o WHERE d <= DATE '{last}'),
      (SELECT COUNT(*) FROM (SELECT contact_id FROM o WHERE d <= DATE '{last}' GROUP BY 1 HAVING
      COUNT(*) > 1)),
      (SELECT SUM(total) FROM o WHERE d <= DATE '{last}') - (SELECT SUM(amount) FROM r WHERE d <=
      DATE '{last}')
    """


def _duck_series(window: tuple[date, date]) -> str:
    day = LOCAL.format("counted_at")
    return f"""SELECT {day} AS d, SUM(total), COUNT(*) FROM "order" WHERE is_counted = 1 AND
    currency = 'EUR'
               AND {day} BETWEEN DATE '{window[0]}' AND DATE '{window[1]}' GROUP BY 1 ORDER BY 1"""


def _duck_breakdown(window: tuple[date, date]) -> str:
    day = LOCAL.format("o.counted_at")
    return f"""SELECT i.product_id, COUNT(DISTINCT o.id), SUM(i.total), SUM(i.quantity)
               FROM order_item i JOIN "order" o ON o.id = i.order_id
               WHERE o.is_counted = 1 AND o.currency = 'EUR' AND {day} BETWEEN DATE '{window[0]}'
               AND DATE '{window[1]}'
               GROUP BY 1 ORDER BY 3 DESC LIMIT 100"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _report(url: str, counts: dict[str, int], routes: dict[str, list[float]], scans: Any) -> None:
    engine = url.split(":", 1)[0]
    print(f"\n{engine}: {counts}")
    print(f"{'figure':42} {'ours p50':>9} {'ours p95':>9} {'duckdb p50':>11} {'duckdb p95':>11}")
    for name, values in routes.items():
        duck = scans.get(name) if isinstance(scans, dict) else None
        duck_text = (
            f"{statistics.median(duck):10.1f}ms {_pct(duck, 0.95):10.1f}ms"
            if duck
            else "         -"
        )
        print(
            f"{name:42} {statistics.median(values):8.1f}ms {_pct(values, 0.95):8.1f}ms {duck_text}"
        )
    if not isinstance(scans, dict):
        print(scans)


if __name__ == "__main__":
    main()
