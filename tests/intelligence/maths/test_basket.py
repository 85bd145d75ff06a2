from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pytest

from companion.intelligence.maths.basket import bought_together


def generated_orders(
    n_orders: int = 3000, n_products: int = 40, seed: int = 11
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_products + 1)
    popularity /= popularity.sum()
    order_ids: list[int] = []
    product_ids: list[int] = []
    for order in range(n_orders):
        items = rng.choice(n_products, size=rng.integers(1, 5), p=popularity) * 7 + 100
        if 100 in items and rng.random() < 0.5:
            items = np.append(items, 107)  # a product often bought with another one
        order_ids += [order] * len(items)  # items may repeat: the same product twice
        product_ids += items.tolist()
    return np.array(order_ids), np.array(product_ids)


def brute_force(
    order_ids: np.ndarray, product_ids: np.ndarray
) -> tuple[int, Counter[int], Counter[tuple[int, int]]]:
    baskets: dict[int, set[int]] = {}
    for o, p in zip(order_ids.tolist(), product_ids.tolist()):
        baskets.setdefault(o, set()).add(p)
    items = Counter(p for basket in baskets.values() for p in basket)
    pairs = Counter(pair for basket in baskets.values() for pair in combinations(sorted(basket), 2))
    return len(baskets), items, pairs


def test_pair_counts_and_measures_equal_a_brute_force_count() -> None:
    orders, products = generated_orders()
    n, items, pairs = brute_force(orders, products)
    result = bought_together(orders, products, min_count=1)
    assert len(result) == len(pairs)
    for k in range(len(result)):
        a, b = int(result.product_a[k]), int(result.product_b[k])
        count = pairs[(a, b)]
        assert result.count[k] == count
        assert result.support[k] == pytest.approx(count / n)
        assert result.confidence_a_to_b[k] == pytest.approx(count / items[a])
        assert result.confidence_b_to_a[k] == pytest.approx(count / items[b])
        assert result.lift[k] == pytest.approx(count * n / (items[a] * items[b]))


def test_minimum_count_and_support_drop_rare_pairs() -> None:
    orders, products = generated_orders()
    n, _, pairs = brute_force(orders, products)
    by_count = bought_together(orders, products, min_count=20)
    assert len(by_count) == sum(1 for c in pairs.values() if c >= 20)
    by_support = bought_together(orders, products, min_count=1, min_support=0.01)
    assert len(by_support) == sum(1 for c in pairs.values() if c / n >= 0.01)


def test_the_planted_pair_has_the_highest_lift_among_frequent_pairs() -> None:
    orders, products = generated_orders()
    result = bought_together(orders, products, min_count=50)
    assert (result.product_a[0], result.product_b[0]) == (100, 107)
    partners = result.for_product(107)
    assert partners[0]["product_id"] == 100 and partners[0]["lift"] > 1.2


def test_orders_with_one_product_count_in_the_denominator_only() -> None:
    result = bought_together([1, 1, 2, 3, 4], [5, 6, 5, 6, 7], min_count=1)
    assert len(result) == 1 and result.n_orders == 4
    assert result.support[0] == 0.25 and result.lift[0] == pytest.approx(1.0)


def test_no_orders_or_single_item_orders_give_no_pairs() -> None:
    assert len(bought_together([], [])) == 0
    assert len(bought_together([1, 2, 3], [5, 5, 6], min_count=1)) == 0
