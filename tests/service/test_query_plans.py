"""Applying a batch looks its rows up by key: its cost must not grow with the store's history.

SQLite has no statistics here (nothing runs ANALYZE), so its planner picks plans from the schema
alone: the plans of a small test store are the plans of a store with a million orders. A plan that
walks a site-wide range ((site) alone, or (site) plus a date range) reads every order, refund or
contact of the site for each batch: the history import slowed from 2,000 to under 1,000 orders/s
between 100,000 and 600,000 orders because of three such statements. This test applies a batch
of every event type to a store with history and checks the plan of every statement it runs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from companion import pipeline
from companion.ingest.receive import store_batch
from companion.models import Contact, Order, Refund
from tests import factories as f
from tests.helpers import is_sqlite

# Tables that hold a handful of rows per site: reading all of a site's rows is fine.
SMALL_PER_SITE = {
    "site",
    "flow_setting",
    "refresh_run",
    "intel_model",
    "stage_group",
    "flow",
    "alert_rule",
    "import_checkpoint",
}
# (site) alone, or (site) and a one-sided range such as counted_at<?: from the first row of the
# site on. A range bounded on both sides (the few days a batch re-derives) is fine.
SITE_WIDE = re.compile(
    r"(?:SCAN|SEARCH) \w+(?: AS \w+)? USING (?:COVERING )?INDEX (\w+) "
    r"\(site_id=\?(?: AND \w+[<>]=?\?)?\)"
)
FULL_SCAN = re.compile(r"\bSCAN (\w+)(?: AS \w+)?(?:$| \|)")
SUBQUERY = re.compile(r"CO-ROUTINE (\w+)|MATERIALIZE (\w+)")


def events(n: int, *, day: int) -> list[dict[str, Any]]:
    at = f"2026-11-{day:02d}T10:00:00Z"
    batch: list[dict[str, Any]] = []
    for i in range(n):
        email = f"buyer{i}@example.com"
        batch += [
            f.order(
                day * 1000 + i, email=email, modified=at, created=at, paid=at, total=f"{20 + i}.00"
            ),
            f.cart(f"cart-{i}", at=at, email=email, session=f"s{i}"),
            f.page_view(f"s{i}", at, email=None),
            f.product_view(f"s{i}", at, product_id=i % 5, email=email),
            f.event(
                "product.updated", {"id": i % 5, "name": "Mug", "price": "9.00"}, email=None, at=at
            ),
            f.event(
                "subscription.updated",
                {"id": i, "kind": "subscription", "status": "active", "product_id": i % 5},
                email=email,
                at=at,
            ),
            f.event("customer.updated", {}, email=email, at=at, first_name="Bo"),
            f.event("consent.updated", {"marketing_consent": True}, email=email, at=at),
        ]
    return batch


def later_batch() -> list[dict[str, Any]]:
    """Updates, refunds (of stored orders and of orders not seen yet), deletes, new orders that
    convert carts and collect waiting refunds, sessions stitched to a contact."""
    at = "2026-11-24T10:00:00Z"
    batch = [
        f.order(10_000 + i, status="completed", modified=at, email=f"buyer{i}@example.com")
        for i in range(10)
    ]
    batch += [
        f.refund(10_000 + i, 9000 + i, at=at, email=f"buyer{i}@example.com") for i in range(10, 15)
    ]
    batch += [f.refund(5000 + i, 9100 + i, at=at, email=f"late{i}@example.com") for i in range(3)]
    batch += [
        f.event("order.deleted", {"order_id": 12_000 + i}, email=None, at=at) for i in range(2)
    ]
    batch += [
        f.order(
            6000 + i,
            modified=at,
            created=at,
            paid=at,
            cart_token=f"cart-{30 + i}",
            email=f"buyer{30 + i}@example.com",
        )
        for i in range(5)
    ]
    batch += [f.page_view(f"s{40 + i}", at, email=f"buyer{40 + i}@example.com") for i in range(5)]
    return batch


@pytest.fixture
def plans(db: Any, site: Any) -> dict[str, str]:
    if not is_sqlite(db):
        pytest.skip(
            "SQLite's plans come from the schema alone; the other engines plan from statistics"
        )
    for day in (10, 12, 14):
        at = datetime(2026, 11, day, 10, 1)
        stored = store_batch(site.site, events(60, day=day), at)
        assert (
            not stored.rejected
            and pipeline.process_events(stored.accepted_ids, at) == stored.accepted
        )
    seen: dict[str, str] = {}
    execute = db.execute_sql

    def explaining(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if sql.lstrip()[:6].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT") and sql not in seen:
            rows = execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            seen[sql] = " | ".join(r[-1] for r in rows)
        return execute(sql, params, *args, **kwargs)

    db.execute_sql = explaining
    try:
        at = datetime(2026, 11, 24, 10, 1)
        stored = store_batch(site.site, later_batch(), at)
        assert (
            not stored.rejected
            and pipeline.process_events(stored.accepted_ids, at) == stored.accepted
        )
    finally:
        del db.execute_sql
    return seen


def test_applying_a_batch_never_walks_a_site_wide_range(plans: dict[str, str]) -> None:
    def walked(plan: str) -> list[str]:
        own = {name for pair in SUBQUERY.findall(plan) for name in pair if name}
        indexes = [
            i
            for i in SITE_WIDE.findall(plan)
            if not any(i.startswith(t + "_") for t in SMALL_PER_SITE)
        ]
        return indexes + [t for t in FULL_SCAN.findall(plan) if t not in own]

    walks = {sql: plan for sql, plan in plans.items() if walked(plan)}
    assert len(plans) > 40  # every applier ran
    assert not walks, "\n\n".join(f"{plan}\n  {sql[:600]}" for sql, plan in walks.items())


def test_the_batch_was_applied(plans: dict[str, str], site: Any) -> None:
    assert (
        Order.select().where(Order.site == site.site.id, Order.deleted_at.is_null()).count()
        == 180 - 2 + 5
    )
    assert Refund.select().where(Refund.site == site.site.id).count() == 8
    assert (
        Contact.select()
        .where(Contact.site == site.site.id, Contact.email == "late0@example.com")
        .exists()
    )
