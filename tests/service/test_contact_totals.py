"""A pass adds its new orders to each contact's stored totals and reads a contact's orders again
only where adding cannot be right: whatever the stream, the stored totals equal a count of the raw
rows after every pass."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from companion.ingest import contacts
from companion.migrations import SchemaVersion, migrate_database
from companion.models import Contact, Order, Refund
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import random_stream

TOTALS = contacts.TOTALS


def counted_from_rows(site_id: int) -> dict[int, dict[str, Any]]:
    """Every contact's totals from the order and refund rows, in Python."""
    orders: dict[int, list[Any]] = defaultdict(list)
    for o in Order.select().where(Order.site == site_id):
        if o.contact_id and o.is_counted and o.deleted_at is None:
            orders[o.contact_id].append(o)
    refunds: dict[int, list[Any]] = defaultdict(list)
    for r in Refund.select().where(Refund.site == site_id, Refund.order.is_null(False)):
        refunds[r.order_id].append(r)
    out = {}
    for contact in Contact.select().where(Contact.site == site_id):
        mine = sorted(orders[contact.id], key=lambda o: (o.counted_at, o.id))
        theirs = [r for o in mine for r in refunds[o.id]]
        out[contact.id] = {
            "orders_count": len(mine),
            "total_spent": sum((o.total for o in mine), Decimal(0)),
            "refunded": sum((r.amount for r in theirs), Decimal(0)),
            "first_order_at": mine[0].counted_at if mine else None,
            "last_order_at": max(o.counted_at for o in mine) if mine else None,
            "first_order_total": mine[0].total if mine else Decimal(0),
            "first_order_id": mine[0].id if mine else None,
            "last_refund_at": max(r.created_at for r in theirs) if theirs else None,
        }
    return out


def stored(site_id: int) -> dict[int, dict[str, Any]]:
    return {
        c.id: {name: getattr(c, name) for name in TOTALS}
        for c in Contact.select().where(Contact.site == site_id)
    }


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The contacts whose orders a pass read (the others had their new orders added)."""
    asked: list[int] = []
    real = contacts._read

    def spy(site_id: int, ids: list[int]) -> Any:
        asked.extend(ids)
        return real(site_id, ids)

    monkeypatch.setattr(contacts, "_read", spy)
    return asked


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_stored_totals_equal_a_count_of_the_rows_after_every_pass_of_a_random_stream(
    client: Any, site: Any, reads: list[int], seed: int
) -> None:
    """Status changes, refunds (some before their order), deletes, an order moving between
    customers, several orders of one customer in one pass."""
    rng = random.Random(seed)
    events = random_stream(seed, orders=40)
    passes = 0
    while events:
        size = rng.randrange(1, 10)
        chunk, events = events[:size], events[size:]
        assert post_events(client, site, chunk).status_code == 202
        run_jobs()
        passes += 1
        assert stored(site.site.id) == counted_from_rows(site.site.id), f"after pass {passes}"
    assert any(t["orders_count"] > 1 for t in stored(site.site.id).values())
    assert reads  # refunds, deletes and status changes made passes read contacts' orders


def test_new_orders_are_added_without_reading_the_customers_orders(
    client: Any, site: Any, reads: list[int]
) -> None:
    def placed(n: int, day: int, total: str, email: str = "ann@example.com") -> dict[str, Any]:
        at = f"2026-11-{day:02d}T10:00:00Z"
        return f.order(n, total=total, created=at, paid=at, modified=at, email=email)

    post_events(client, site, [placed(1, 10, "20.00"), placed(2, 12, "30.00")])
    run_jobs()
    ann = Contact.get(Contact.email == "ann@example.com")
    assert reads == []  # a new contact: nothing stored to read
    post_events(client, site, [placed(3, 14, "5.00"), placed(4, 8, "7.00", "bob@example.com")])
    run_jobs()
    assert reads == []
    post_events(client, site, [placed(5, 9, "11.00")])  # before her first: the new first order
    run_jobs()
    assert reads == []
    ann = Contact.get_by_id(ann.id)
    assert (ann.orders_count, ann.total_spent, ann.first_order_total) == (4, Decimal(66), 11)
    assert (ann.first_order_at, ann.last_order_at) == (
        datetime(2026, 11, 9, 10),
        datetime(2026, 11, 14, 10),
    )
    post_events(client, site, [placed(6, 9, "13.00")])  # the same moment as her first
    run_jobs()
    assert reads == []  # the first is then the lower id: hers
    assert stored(site.site.id) == counted_from_rows(site.site.id)
    post_events(client, site, [f.refund(3, 31, "2.00", at="2026-11-15T00:00:00Z")])
    run_jobs()
    assert reads == [ann.id]  # a refund: her orders and refunds are read
    assert stored(site.site.id) == counted_from_rows(site.site.id)
    assert Contact.get_by_id(ann.id).first_order_total == 11


def test_a_contact_from_before_the_running_totals_is_read_once(
    client: Any, site: Any, reads: list[int]
) -> None:
    """Migration 40 leaves first_order_total NULL: adding to totals not worked out here could
    add to wrong ones, so the contact's next pass reads their orders."""
    post_events(client, site, [f.order(1, total="20.00")])
    run_jobs()
    Contact.update(first_order_total=None, orders_count=0, total_spent=0).execute()
    post_events(client, site, [f.order(2, total="5.00", created="2026-11-21T09:00:00Z")])
    run_jobs()
    assert len(reads) == 1
    assert stored(site.site.id) == counted_from_rows(site.site.id)
    assert Contact.get().orders_count == 2


def test_step_40_gives_a_store_from_before_it_the_columns_once(db: Any) -> None:
    for column in ("first_order_total", "first_order_id", "last_refund_at"):
        db.execute_sql(f"ALTER TABLE contact DROP COLUMN {column}")
    SchemaVersion.delete().where(SchemaVersion.version == 40).execute()
    assert migrate_database(db) == [
        "40: contacts: first order and last refund, so a pass adds to the stored totals"
    ]
    columns = {column.name: column for column in db.get_columns("contact")}
    assert all(columns[c].null for c in ("first_order_total", "first_order_id", "last_refund_at"))
    assert migrate_database(db) == []
