"""A pass rescores its customers from what refreshing their totals read, not from a second read of
their orders, and only where that equals the summary as of the pass's moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from bench.intel_store import StoreShape, generate_store
from companion.ingest.contacts import recount_totals
from companion.intelligence.refresh import refresh_site, rescore_contacts
from companion.intelligence.summary import (
    CustomerSummary,
    customer_summary,
    summary_from_facts,
)
from companion.models import Contact, Order, Refund

END = datetime(2026, 10, 1)
AS_OF = END + timedelta(days=4)  # after every order and refund (refunds come 3 days on)
SHAPE = StoreShape(customers=200, leads=10, days=200, end=END, refund_share=0.2, seed=11)
SCORES = ("stage", "stage_reason", "rfm_r", "rfm_f", "rfm_m", "rfm_segment", "p_alive")


@pytest.fixture
def store(site: Any) -> Any:
    """The generated store, with the awkward orders a real one has: one deleted, one not counted,
    and two of one customer counted at the same moment (the first is then the lower id)."""
    generate_store(site.site, SHAPE)
    orders = list(Order.select().where(Order.site == site.site.id).order_by(Order.id))
    Order.update(deleted_at=END - timedelta(days=1)).where(Order.id == orders[3].id).execute()
    Order.update(is_counted=False).where(Order.id == orders[4].id).execute()
    by_buyer: dict[int, list[Any]] = {}
    for o in orders[5:]:
        by_buyer.setdefault(o.contact_id, []).append(o)
    theirs = next(mine for mine in by_buyer.values() if len(mine) > 2)
    Order.update(counted_at=theirs[0].counted_at, total=theirs[1].total + 3).where(
        Order.id == theirs[1].id
    ).execute()
    return site


def _ids(site: Any) -> list[int]:
    return [c.id for c in Contact.select(Contact.id).where(Contact.site == site.site.id)]


def _same(a: CustomerSummary, b: CustomerSummary) -> None:
    assert a.as_of == b.as_of
    for name in ("contact_id", "orders", "first_at", "last_at", "gross", "refunded", "first_gross"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_the_totals_read_gives_the_summary_the_orders_give(store: Any) -> None:
    ids = sorted(_ids(store))
    facts = recount_totals(store.site.id, set(ids))
    from_facts = summary_from_facts(facts, ids, AS_OF)
    assert from_facts is not None
    expected = customer_summary(store.site.id, AS_OF, ids)
    _same(from_facts, expected)
    assert expected.size > 150 and expected.refunded.sum() > 0  # the store has what is compared
    assert (expected.first_gross < expected.gross).any()  # and repeat customers
    leads = [i for i in ids if facts[i] is None]
    assert leads and not set(leads) & set(from_facts.contact_id.tolist())


@pytest.mark.parametrize("late", ["order", "refund"])
def test_an_order_or_refund_dated_after_the_pass_reads_the_orders_as_of_it(
    store: Any, late: str
) -> None:
    """A shop whose clock runs ahead of the worker's: the totals count what the summary as of the
    pass's moment must leave out, so the rescoring reads the orders again."""
    refunded = Refund.select().where(Refund.site == store.site.id).first()
    order = Order.get_by_id(refunded.order_id)
    if late == "order":
        Order.update(counted_at=AS_OF + timedelta(hours=2)).where(Order.id == order.id).execute()
    else:
        Refund.update(created_at=AS_OF + timedelta(hours=2)).where(
            Refund.id == refunded.id
        ).execute()
    ids = sorted(_ids(store))
    facts = recount_totals(store.site.id, set(ids))
    later = AS_OF + timedelta(hours=3)
    assert summary_from_facts(facts, ids, later) is not None
    assert summary_from_facts(facts, ids, AS_OF) is None
    assert summary_from_facts(facts, [*ids, max(ids) + 1], later) is None  # one it did not read


def test_rescoring_from_the_pass_facts_writes_the_scores_a_fresh_read_writes(store: Any) -> None:
    refresh_site(store.site, END - timedelta(days=30))  # the thresholds and fits a pass scores with
    ids = sorted(_ids(store))
    facts = recount_totals(store.site.id, set(ids))

    def scores() -> dict[int, tuple[Any, ...]]:
        rows = Contact.select().where(Contact.site == store.site.id)
        return {c.id: tuple(getattr(c, n) for n in SCORES) for c in rows}

    assert summary_from_facts(facts, ids, AS_OF) is not None
    rescore_contacts(store.site.id, ids, AS_OF, facts)
    from_facts = scores()
    Contact.update(stage="lead", rfm_r=None).where(Contact.site == store.site.id).execute()
    rescore_contacts(store.site.id, ids, AS_OF)
    assert scores() == from_facts
    assert {s[0] for s in from_facts.values()} > {"lead"}
