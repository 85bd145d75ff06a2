"""How long a privacy export and erase take on a big store (the plugin waits at most 20 s).

    .venv/bin/python -m bench.bench_privacy [--orders 200000] [--database-url postgresql://...]

Orders, items, refunds and contacts come from bench_metrics_data (bulk-loaded); one raw event per
order is added with a payload of plausible size naming its customer, since erase reads every raw
event's payload. Then one customer is exported, erased, and erased again (a no-op).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from peewee import fn

from bench.bench_metrics import _fresh_site
from bench.bench_metrics_data import generate, load
from companion import privacy
from companion.core.db import database
from companion.models import Contact, Order, RawEvent


def _raw_events(site_id: int, orders: int) -> None:
    rows = (
        Order.select(Order.id, Order.contact, Order.created_at)
        .where(Order.site == site_id)
        .tuples()
    )
    batch: list[dict[str, Any]] = []
    for order_id, contact_id, created in rows.iterator():
        payload = {
            "id": f"ev-{order_id}",
            "type": "order.updated",
            "source": "woocommerce",
            "occurred_at": str(created),
            "contact": {
                "email": f"c{contact_id}@example.com",
                "first_name": "Some",
                "last_name": "Body",
            },
            "data": {
                "id": order_id,
                "status": "completed",
                "items": [{"product_id": 1, "name": "x" * 200}],
            },
        }
        batch.append(
            {
                "site": site_id,
                "event_id": f"ev-{order_id}",
                "type": "order.updated",
                "source": "woocommerce",
                "occurred_at": created,
                "received_at": created,
                "payload": json.dumps(payload),
                "processed_at": created,
            }
        )
        if len(batch) == 1000:
            with database.atomic():
                RawEvent.insert_many(batch).execute()
            batch = []
    if batch:
        RawEvent.insert_many(batch).execute()


def _timed(label: str, func: Any, *args: Any) -> Any:
    began = time.perf_counter()
    result = func(*args)
    print(f"{label}: {time.perf_counter() - began:.2f}s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=None, help="default: a new SQLite file in a temp folder"
    )
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-privacy-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    site, db = _fresh_site(url)
    counts = generate(folder, site.id, args.orders)
    load(db, folder, url.startswith("postgres"))
    _timed("raw events inserted", _raw_events, site.id, args.orders)
    print(f"{url.split(':')[0]}, {counts}")
    per_customer = (
        Order.select(Order.contact, fn.COUNT(Order.id))
        .where(Order.site == site.id)
        .group_by(Order.contact)
        .order_by(fn.COUNT(Order.id).desc())
        .tuples()
    )
    ranked = list(per_customer)
    for label, (contact_id, orders) in (
        ("busiest", ranked[0]),
        ("typical", ranked[len(ranked) // 2]),
    ):
        email = Contact.get_by_id(contact_id).email
        print(f"{label} customer {email}, {orders} orders")
        exported = _timed("  export", privacy.export_person, site.id, email)
        print(f"    {len(json.dumps(exported, default=str))} bytes")
        erased = _timed("  erase", privacy.erase_person, site.id, email, "bench-secret")
        print(f"    orders {erased['orders']}, raw events {erased['raw_events']}")
        again = _timed(
            "  erase again (no-op)", privacy.erase_person, site.id, email, "bench-secret"
        )
        assert sum(again.values()) == 0


if __name__ == "__main__":
    main()
