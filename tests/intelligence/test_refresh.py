"""The refresh on a generated store: RFM, stages with reasons, predictions behind the data gate,
--as-of."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from peewee import fn

from bench.intel_store import StoreShape, generate_store
from companion.intelligence.maths.lifecycle import STAGES
from companion.intelligence.refresh import refresh_site
from companion.models import Contact, Order, Refund
from tests.helpers import bearer
from tests.intelligence.maths.test_rfm import (
    brute_force_recency,
    brute_force_score,
    brute_force_segment,
)

END = datetime(2026, 10, 1)
BIG = StoreShape(customers=600, leads=15, days=240, end=END, seed=5)


@pytest.fixture
def big_store(site: Any) -> Any:
    generate_store(site.site, BIG)
    return site


def independent_rfm(site_id: int, as_of: datetime) -> dict[int, tuple[int, int, int, str]]:
    """Customer by customer from the raw rows: days since last order, orders, net spend; then
    quintiles."""
    orders: dict[int, list[Any]] = defaultdict(list)
    for o in Order.select().where(
        Order.site == site_id, Order.is_counted == True, Order.counted_at <= as_of
    ):
        orders[o.contact_id].append(o)
    refunded: Counter[int] = Counter()
    for r in (
        Refund.select(Refund, Order)
        .join(Order)
        .where(Refund.site == site_id, Refund.created_at <= as_of)
    ):
        if r.order.is_counted and r.order.counted_at <= as_of:
            refunded[r.order.contact_id] += float(r.amount)
    ids = sorted(orders)
    recency = [
        -((as_of - max(o.counted_at for o in orders[c])).total_seconds() // 86_400) for c in ids
    ]  # whole days
    frequency = [len(orders[c]) for c in ids]
    money = [round(sum(float(o.total) for o in orders[c]) - refunded[c], 4) for c in ids]
    r, f, m = (
        brute_force_recency([-x for x in recency]),
        brute_force_score(frequency),
        brute_force_score(money),
    )
    return {c: (r[i], f[i], m[i], brute_force_segment(r[i], f[i], m[i])) for i, c in enumerate(ids)}


def test_rfm_scores_and_segment_counts_equal_an_independent_implementation(big_store: Any) -> None:
    refresh_site(big_store.site, END)
    expected = independent_rfm(big_store.site.id, END)
    stored = {
        c.id: (c.rfm_r, c.rfm_f, c.rfm_m, c.rfm_segment)
        for c in Contact.select().where(
            Contact.site == big_store.site.id, Contact.rfm_segment.is_null(False)
        )
    }
    assert stored == expected
    assert Counter(v[3] for v in stored.values()) == Counter(v[3] for v in expected.values())


def test_every_contact_gets_a_stage_with_its_reason(big_store: Any) -> None:
    refresh_site(big_store.site, END)
    contacts = list(Contact.select().where(Contact.site == big_store.site.id))
    assert all(c.stage in STAGES and c.stage_reason for c in contacts)
    stages = Counter(c.stage for c in contacts)
    assert stages["lead"] == BIG.leads and stages["churned"] and stages["repeat"] + stages["vip"]
    lead = next(c for c in contacts if c.stage == "lead")
    assert lead.stage_reason == "no counted order yet" and lead.rfm_segment is None


def test_predictions_are_made_above_the_data_gate(big_store: Any) -> None:
    result = refresh_site(big_store.site, END)
    assert result["gate_met"] and result["predictions"], result
    buyers = list(
        Contact.select().where(
            Contact.site == big_store.site.id, Contact.rfm_segment.is_null(False)
        )
    )
    assert all(c.p_alive is not None and 0 <= c.p_alive <= 1 for c in buyers)
    assert all(0 <= c.expected_purchases_90 <= c.expected_purchases_365 < 50 for c in buyers)
    assert all(c.expected_next_order_at is not None for c in buyers)
    assert all(c.predicted_clv_365 is not None and c.predicted_clv_365 >= 0 for c in buyers)
    modelled = [
        c for c in buyers if c.stage in ("churned", "at_risk") and "P(alive)" in c.stage_reason
    ]
    assert modelled, "repeat customers who went quiet are judged by P(alive)"


def test_below_the_data_gate_there_are_no_predictions_and_the_reason_says_why(
    site: Any, client: Any
) -> None:
    generate_store(site.site, StoreShape(customers=120, leads=0, days=240, end=END, seed=2))
    result = refresh_site(site.site, END)
    assert not result["predictions"] and "predictions need 500" in result["gate_reason"]
    buyers = list(Contact.select().where(Contact.site == site.site.id))
    assert all(c.p_alive is None and c.predicted_clv_365 is None and c.stage for c in buyers)
    assert all(
        "P(alive)" not in c.stage_reason for c in buyers
    )  # stages fall back to order intervals
    answer = client.get(f"/v1/sites/{site.site.public_id}/segments", headers=bearer(site)).json
    assert answer["predictions"] is False and "predictions need 500" in answer["predictions_reason"]


def test_as_of_ignores_orders_and_refunds_made_later(big_store: Any) -> None:
    cut = END - timedelta(days=60)
    refresh_site(big_store.site, END, as_of=cut)
    expected = independent_rfm(big_store.site.id, cut)
    stored = {
        c.id: (c.rfm_r, c.rfm_f, c.rfm_m, c.rfm_segment)
        for c in Contact.select().where(
            Contact.site == big_store.site.id, Contact.rfm_segment.is_null(False)
        )
    }
    assert stored == expected
    later_only = (
        Order.select(Order.contact)
        .where(Order.site == big_store.site.id)
        .group_by(Order.contact)
        .having(fn.MIN(Order.counted_at) > cut)
    )
    assert all(c.stage == "lead" for c in Contact.select().where(Contact.id.in_(later_only)))


def test_segments_route_counts_customers_and_net_revenue(big_store: Any, client: Any) -> None:
    refresh_site(big_store.site, END)
    answer = client.get(
        f"/v1/sites/{big_store.site.public_id}/segments", headers=bearer(big_store)
    ).json
    segments = {g["name"]: g for g in answer["segments"]}
    stored = Counter(
        c.rfm_segment
        for c in Contact.select().where(
            Contact.site == big_store.site.id, Contact.rfm_segment.is_null(False)
        )
    )
    assert {k: v["customers"] for k, v in segments.items() if v["customers"]} == dict(stored)
    assert sum(g["customers"] for g in answer["stages"]) == BIG.customers + BIG.leads
    assert answer["predictions"] is True and answer["refreshed_at"].endswith("+00:00")
