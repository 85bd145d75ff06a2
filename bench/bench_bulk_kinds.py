"""PostgreSQL's two kinds of bulk statement, per statement and by row count: a VALUES list (a
parameter per value; per-row UPDATEs) against one array per column (`unnest`). What
`companion.core.bulk.ARRAYS_FROM` is chosen from. Each statement runs in a transaction that is
rolled back, so the database keeps what it had; give it one with a site and contacts (a
`bench.profile_apply` database will do).

    .venv/bin/python -m bench.bench_bulk_kinds \
        --database-url postgresql://postgres@127.0.0.1:5432/companion_bench_orders
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from companion.core import bulk, runtime
from companion.core.db import bind_database
from companion.core.settings import Settings
from companion.models import Contact, Order


def orders(site_id: int, n: int, tag: str) -> list[dict[str, Any]]:
    at = datetime(2026, 3, 29, 1, 30, 15)
    return [
        {
            "site": site_id,
            "source": "woocommerce",
            "external_id": f"{tag}-{i}",
            "status": "completed",
            "currency": "EUR",
            "total": Decimal("19.9999"),
            "refunded_total": 0,
            "is_renewal": False,
            "coupons": ["SPRING"],
            "created_at": at,
            "modified_at": at,
            "counted_at": at,
            "is_counted": True,
            "snapshot_seq": i,
            "payment_method": "cod",
            "utm_source": "newsletter",
        }
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    runtime.configure(Settings(database_url=args.database_url, redis_url=None))
    db = bind_database(args.database_url)
    with db.connection_context():
        site_id = db.execute_sql("SELECT id FROM site ORDER BY id LIMIT 1").fetchone()[0]
        contacts = [r[0] for r in db.execute_sql("SELECT id FROM contact ORDER BY id LIMIT 500")]
        print("rows  kind    insert orders  update contacts (median ms)")
        for n in (1, 3, 10, 30, 100, 500):
            for kind in ("values", "arrays"):
                bulk.ARRAYS_FROM = 1 if kind == "arrays" else 10**9
                inserts, updates = [], []
                for k in range(40 if n < 100 else 10):
                    rows = orders(site_id, n, f"{kind}{k}")
                    changes = {
                        c: {"orders_count": 3, "total_spent": Decimal(5)} for c in contacts[:n]
                    }
                    db.execute_sql("BEGIN")
                    started = time.perf_counter()
                    bulk.insert_rows(Order, rows, ignore_conflicts=True, returning=("id",))
                    inserts.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    bulk.update_by_id(Contact, changes, ("orders_count", "total_spent"))
                    updates.append(time.perf_counter() - started)
                    db.execute_sql("ROLLBACK")
                print(
                    f"{n:4}  {kind:6}  {statistics.median(inserts) * 1000:13.2f}  "
                    f"{statistics.median(updates) * 1000:15.2f}"
                )


if __name__ == "__main__":
    main()
