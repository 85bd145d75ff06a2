"""Full intelligence refresh on a generated store: 200,000 customers, ~1,000,000 orders.

    .venv/bin/python bench/bench_refresh.py [--customers 200000] [--engines sqlite,postgresql]
        [--pg-url postgresql://postgres@127.0.0.1:5432/companion_intel_bench] [--skip-lifetimes]

The store is written by bulk INSERTs (bench/intel_store.py: BG/NBD buyers r=0.65, alpha=20, a=1,
b=5 per day over two years, Gamma-Gamma spend, 5,000 products with companions), then ANALYZEd,
as after any bulk load. The refresh (summary SQL, RFM, stages, BG/NBD and Gamma-Gamma fits,
scoring, bulk write-back, pairs) is timed twice; then the time to rescore one customer after a
new order; then `lifetimes` 0.11 (its own venv, see bench_fit.py) fitting the same summary.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import numpy as np
import psycopg2

from bench.bench_fit import run_lifetimes
from bench.intel_store import StoreShape, generate_store
from companion.core.db import bind_database
from companion.intelligence.maths.bgnbd import fit_bgnbd
from companion.intelligence.maths.gammagamma import fit_gamma_gamma
from companion.intelligence.refresh import refresh_site, rescore_contacts
from companion.intelligence.scoring import arrays
from companion.intelligence.summary import customer_summary
from companion.migrations import migrate_database
from companion.models import Order, utcnow
from companion.sites import create_site


def fresh_database(engine: str, pg_url: str) -> Any:
    if engine == "sqlite":
        return bind_database(f"sqlite:///{tempfile.mkdtemp(prefix='bench-refresh-')}/bench.db")
    name = pg_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(pg_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    admin.close()
    return bind_database(pg_url)


def run_engine(engine: str, shape: StoreShape, pg_url: str) -> tuple[dict[str, float], Any]:
    db = fresh_database(engine, pg_url)
    db.connect()
    migrate_database(db)
    site = create_site("Bench", "https://bench.example").site
    began = time.perf_counter()
    with db.atomic():
        info = generate_store(site, shape)
    db.execute_sql("ANALYZE")
    print(
        f"[{engine}] generated {shape.customers:,} customers, {len(info['order_ids']):,} orders "
        f"in {time.perf_counter() - began:.1f} s"
    )
    figures: dict[str, float] = {}
    for attempt in ("first", "second"):
        began = time.perf_counter()
        result = refresh_site(site, utcnow())
        figures[f"refresh ({attempt})"] = time.perf_counter() - began
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in result["timings"].items())
        print(
            f"[{engine}] full refresh ({attempt}): {figures[f'refresh ({attempt})']:.2f} s  "
            f"({steps}); "
            f"{result['customers']:,} customers, {result['pairs']:,} directed pairs, "
            f"predictions: {result['predictions']}"
        )
    contact = (
        Order.select(Order.contact).where(Order.site == site.id).order_by(Order.id.desc()).scalar()
    )
    began = time.perf_counter()
    with db.atomic():
        rescore_contacts(site.id, [contact], utcnow())
    figures["rescore one customer"] = time.perf_counter() - began
    print(
        f"[{engine}] rescore one customer after a new order: "
        f"{figures['rescore one customer'] * 1000:.1f} ms"
    )
    summary = customer_summary(site.id, utcnow())
    db.close()
    return figures, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-url", default="postgresql://postgres@127.0.0.1:5432/companion_intel_bench"
    )
    parser.add_argument("--skip-lifetimes", action="store_true")
    args = parser.parse_args(argv)
    shape = StoreShape(
        customers=args.customers,
        leads=args.customers // 20,
        days=730,
        products=5_000,
        rate=(0.65, 20.0),
        dropout=(1.0, 5.0),
        seed=11,
    )
    summary = None
    for engine in args.engines.split(","):
        _, summary = run_engine(engine, shape, args.pg_url)
    if summary is not None and not args.skip_lifetimes:
        a = arrays(summary)
        report: dict[str, float] = {}
        began = time.perf_counter()
        ours = fit_bgnbd(a.x, a.t_x, a.age)
        middle = time.perf_counter()
        spend = fit_gamma_gamma(a.x, a.m)
        print(
            f"ours on the summary of the last engine: BG/NBD fit {(middle - began) * 1000:.0f} ms "
            f"(r {ours.r:.3f}, alpha {ours.alpha:.3f}, a {ours.a:.3f}, b {ours.b:.3f}), "
            "Gamma-Gamma "
            f"{(time.perf_counter() - middle) * 1000:.0f} ms (p {spend.p:.2f}, q {spend.q:.2f}, "
            f"gamma {spend.gamma:.2f})"
        )
        refunded = int(((a.x > 0) & (a.m <= 0)).sum())
        print(
            "lifetimes 0.11 on the same summary (separate venv, same run; its Gamma-Gamma refuses "
            "spend <= 0, "
            f"so the {refunded} fully refunded repeat customers get 0.01, where ours leaves them "
            "out):"
        )
        run_lifetimes(
            {
                "x": a.x,
                "t_x": a.t_x,
                "T": a.age,
                "spend": np.where(a.x > 0, np.maximum(a.m, 0.01), 0.0),
            },
            report,
        )


if __name__ == "__main__":
    main()
