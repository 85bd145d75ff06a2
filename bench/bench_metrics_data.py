"""Synthetic store data for bench_metrics.py, written as CSV once and bulk-loaded (COPY on
PostgreSQL, executemany on SQLite) as plain model rows: orders, items, refunds, contacts,
products."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

END = datetime(2026, 11, 25)
START = END - timedelta(days=3 * 365)
STATUSES = (
    ["completed"] * 80
    + ["processing"] * 8
    + ["refunded"] * 3
    + ["cancelled"] * 4
    + ["failed"] * 3
    + ["pending"] * 2
)
METHODS = ["stripe", "paypal", "bacs", "cod"]
DEVICES = ["mobile", "desktop", "tablet"]
CHANNELS = [
    ("organic", "google"),
    ("utm", "newsletter"),
    ("referral", "facebook.com"),
    ("typein", None),
    ("admin", None),
]

ORDER_COLUMNS = [
    "id",
    "site_id",
    "source",
    "external_id",
    "status",
    "currency",
    "total",
    "refunded_total",
    "payment_method",
    "source_type",
    "utm_source",
    "device",
    "is_renewal",
    "contact_id",
    "created_at",
    "paid_at",
    "modified_at",
    "snapshot_seq",
    "is_counted",
    "counted_at",
]
ITEM_COLUMNS = [
    "id",
    "order_id",
    "site_id",
    "product_id",
    "name",
    "quantity",
    "price",
    "total",
    "categories",
]
REFUND_COLUMNS = [
    "id",
    "site_id",
    "source",
    "external_id",
    "order_external_id",
    "order_id",
    "amount",
    "created_at",
]
CONTACT_COLUMNS = [
    "id",
    "site_id",
    "email",
    "created_at",
    "updated_at",
    "orders_count",
    "total_spent",
    "refunded",
]
PRODUCT_COLUMNS = [
    "id",
    "site_id",
    "source",
    "external_id",
    "name",
    "price",
    "categories",
    "updated_at",
]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def generate(folder: Path, site_id: int, orders: int, seed: int = 7) -> dict[str, int]:
    """Write the CSV files; money in stored units (1/10,000). Returns the row counts."""
    rng = random.Random(seed)
    customers, products = max(orders // 5, 10), min(5000, max(orders // 200, 50))
    prices = [rng.randrange(300, 15000) * 100 for _ in range(products)]
    cats = [
        json.dumps(rng.sample([f"Category {c}" for c in range(40)], rng.randrange(1, 3)))
        for _ in range(products)
    ]
    counts = {"orders": orders, "contacts": customers, "products": products}
    _write(
        folder / "product.csv",
        (
            [
                p + 1,
                site_id,
                "woocommerce",
                str(p + 1),
                f"Product {p + 1}",
                prices[p],
                cats[p],
                _ts(END),
            ]
            for p in range(products)
        ),
    )
    _write(
        folder / "contact.csv",
        (
            [c + 1, site_id, f"c{c + 1}@example.com", _ts(START), _ts(END), 0, 0, 0]
            for c in range(customers)
        ),
    )
    span = int((END - START).total_seconds())
    with (
        _open(folder / "order.csv") as o,
        _open(folder / "order_item.csv") as i,
        _open(folder / "refund.csv") as r,
    ):
        item_id = refund_id = 0
        for n in range(1, orders + 1):
            created = START + timedelta(seconds=rng.randrange(span))
            lines = []
            for _ in range(rng.choice((1, 1, 2, 3, 3, 4, 4))):
                p = (
                    min(int(rng.paretovariate(1.2)) - 1, products - 1)
                    if rng.random() < 0.5
                    else rng.randrange(products)
                )
                qty = rng.choice((1, 1, 1, 2, 3))
                item_id += 1
                lines.append(
                    [
                        item_id,
                        n,
                        site_id,
                        str(p + 1),
                        f"Product {p + 1}",
                        qty,
                        prices[p],
                        prices[p] * qty,
                        cats[p],
                    ]
                )
            total = sum(line[7] for line in lines)
            status = rng.choice(STATUSES)
            paid = (
                created + timedelta(minutes=rng.randrange(60))
                if status in ("completed", "processing", "refunded")
                else None
            )
            counted = status in ("completed", "processing") or (
                status == "refunded" and paid is not None
            )
            refunds = []
            if counted and (status == "refunded" or rng.random() < 0.04):
                refund_id += 1
                amount = total if status == "refunded" else total * rng.randrange(10, 100) // 100
                when = (paid or created) + timedelta(hours=rng.randrange(1, 24 * 40))
                refunds.append(
                    [
                        refund_id,
                        site_id,
                        "woocommerce",
                        str(refund_id),
                        str(n),
                        n,
                        amount,
                        _ts(when),
                    ]
                )
            kind, utm = rng.choice(CHANNELS)
            contact = (
                min(int(rng.paretovariate(0.9)), customers)
                if rng.random() < 0.3
                else rng.randrange(1, customers + 1)
            )
            o.writerow(
                [
                    n,
                    site_id,
                    "woocommerce",
                    str(n),
                    status,
                    "EUR",
                    total,
                    sum(x[6] for x in refunds),
                    rng.choice(METHODS),
                    kind,
                    utm or "",
                    rng.choice(DEVICES),
                    0,
                    contact,
                    _ts(created),
                    _ts(paid) if paid else "",
                    _ts(paid or created),
                    n,
                    int(counted),
                    _ts(paid or created),
                ]
            )
            i.writerows(lines)
            r.writerows(refunds)
    counts.update(items=item_id, refunds=refund_id)
    return counts


@contextmanager
def _open(path: Path) -> Iterator[Any]:
    with path.open("w", newline="") as handle:
        yield csv.writer(handle)


def _write(path: Path, rows: Any) -> None:
    with _open(path) as writer:
        writer.writerows(rows)


TABLES = [
    ("product", PRODUCT_COLUMNS),
    ("contact", CONTACT_COLUMNS),
    ("order", ORDER_COLUMNS),
    ("order_item", ITEM_COLUMNS),
    ("refund", REFUND_COLUMNS),
]


def load(db: Any, folder: Path, is_postgres: bool) -> None:
    """Bulk-load the CSV files into the service's own tables."""
    for table, columns in TABLES:
        if is_postgres:
            _copy(db, folder / f"{table}.csv", table, columns)
        else:
            _executemany(db, folder / f"{table}.csv", table, columns)
    if is_postgres:
        for table, _ in TABLES:
            db.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM "
                f'"{table}"))'
            )
        db.execute_sql("ANALYZE")


def _copy(db: Any, path: Path, table: str, columns: list[str]) -> None:
    cursor = db.connection().cursor()
    with path.open() as handle:
        cursor.copy_expert(
            f"COPY \"{table}\" ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '')", handle
        )
    db.connection().commit()


def _executemany(db: Any, path: Path, table: str, columns: list[str]) -> None:
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})'
    with db.atomic(), path.open(newline="") as handle:
        reader = csv.reader(handle)
        batch: list[list[Any]] = []
        for row in reader:
            batch.append([None if v == "" else v for v in row])
            if len(batch) == 20000:
                db.cursor().executemany(sql, batch)
                batch = []
        if batch:
            db.cursor().executemany(sql, batch)
