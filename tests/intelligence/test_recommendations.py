"""Bought-together pairs equal a brute-force pair count; recommendations and upsells for the
flows."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from itertools import combinations
from typing import Any

import pytest

from bench.intel_store import StoreShape, generate_store
from companion.intelligence.recommendations import (
    MIN_ORDERS,
    recommendations_for,
    upsell_candidates,
)
from companion.intelligence.refresh import refresh_site
from companion.models import Order, OrderItem
from companion.models.intelligence import ProductPair
from tests.helpers import bearer

END = datetime(2026, 10, 1)


@pytest.fixture
def store(site: Any) -> Any:
    generate_store(
        site.site, StoreShape(customers=300, leads=0, days=200, products=12, end=END, seed=9)
    )
    refresh_site(site.site, END)
    return site


def brute_force_pairs(site_id: int) -> tuple[int, Counter[str], Counter[tuple[str, str]]]:
    baskets: dict[int, set[str]] = defaultdict(set)
    for item in (
        OrderItem.select(OrderItem, Order)
        .join(Order)
        .where(Order.site == site_id, Order.is_counted == True)
    ):
        baskets[item.order_id].add(item.product_id)
    single: Counter[str] = Counter(p for b in baskets.values() for p in b)
    pairs: Counter[tuple[str, str]] = Counter(
        pair for b in baskets.values() for pair in combinations(sorted(b), 2)
    )
    return len(baskets), single, pairs


def test_stored_pairs_equal_a_brute_force_count_with_support_confidence_and_lift(
    store: Any,
) -> None:
    n, single, pairs = brute_force_pairs(store.site.id)
    stored = {
        (p.product, p.partner): p
        for p in ProductPair.select().where(ProductPair.site == store.site.id)
    }
    expected = {pair: count for pair, count in pairs.items() if count >= MIN_ORDERS}
    assert len(stored) == 2 * len(expected)
    for (a, b), count in expected.items():
        for x, y in ((a, b), (b, a)):
            row = stored[x, y]
            assert row.orders == count
            assert row.support == pytest.approx(count / n)
            assert row.confidence == pytest.approx(count / single[x])
            assert row.lift == pytest.approx(count * n / (single[a] * single[b]))


def test_the_companion_product_is_the_top_recommendation(store: Any, client: Any) -> None:
    answer = client.get(
        f"/v1/sites/{store.site.public_id}/products/p3/recommendations", headers=bearer(store)
    )
    assert answer.status_code == 200
    together = answer.json["bought_together"]
    assert together[0]["product_id"] == "p4" and together[0]["name"] == "Product 4"
    assert together[0]["lift"] > 1 and 0 < together[0]["confidence"] <= 1
    lifts = [row["lift"] for row in together]
    assert lifts == sorted(lifts, reverse=True)


def test_recommendations_for_a_basket_never_repeat_its_products(store: Any) -> None:
    found = recommendations_for(store.site.id, ["p3", "p4"], limit=3)
    assert found and len(found) <= 3
    assert not {row["product_id"] for row in found} & {"p3", "p4"}
    assert all(row["url"] is None or row["url"] for row in found) and found[0]["because_of"] in (
        "p3",
        "p4",
    )


def test_upsell_candidates_share_a_category_cost_more_and_were_bought_by_its_buyers(
    store: Any,
) -> None:
    found = upsell_candidates(store.site.id, "p1", limit=5)
    assert found
    for row in found:
        assert int(row["product_id"][1:]) % 4 == 1  # same category (cat1)
        assert row["price"] > 11 and row["buyers"] >= 1
    assert [r["buyers"] for r in found] == sorted((r["buyers"] for r in found), reverse=True)


def test_an_unknown_product_is_a_404(store: Any, client: Any) -> None:
    answer = client.get(
        f"/v1/sites/{store.site.public_id}/products/nope/recommendations", headers=bearer(store)
    )
    assert answer.status_code == 404
