"""The products page's "Bought together" table reads the lines of the period's latest orders (on
PostgreSQL through a LATERAL lookup per order): it counts the orders that hold both products, only
this site's and only counted ones."""

from __future__ import annotations

from typing import Any

from companion.dashboard import products
from companion.dashboard.periods import preset_period, today_in
from companion.models import Site
from tests.dashboard.conftest import _item
from tests.dashboard.session import day
from tests.factories import order
from tests.helpers import post_events, run_jobs

MUG, KETTLE, TEA = _item(7, "Mug", "10.00"), _item(8, "Kettle", "30.00"), _item(9, "Tea", "5.00")


def _orders(baskets: list[list[dict[str, Any]]], first: int = 1, **extra: Any) -> list[Any]:
    return [
        order(first + n, created=day(n + 1), paid=day(n + 1), modified=day(n + 1), items=b, **extra)
        for n, b in enumerate(baskets)
    ]


def test_pairs_count_this_sites_counted_orders_that_hold_both_products(
    client: Any, site: Any, other_site: Any
) -> None:
    baskets = [[MUG, KETTLE], [MUG, KETTLE, TEA], [KETTLE, MUG], [MUG], [TEA, MUG], [TEA]]
    assert post_events(client, site, _orders(baskets)).status_code == 202
    assert (
        post_events(client, site, _orders([[MUG, KETTLE]] * 2, 50, status="cancelled")).status_code
        == 202
    )
    assert post_events(client, other_site, _orders([[TEA, KETTLE]] * 4)).status_code == 202
    run_jobs()
    row = Site.get_by_id(site.site.id)
    table = products.pairs(row, preset_period("30d", today_in(row.timezone)))
    assert [(r["pair"], r["orders"]) for r in table.rows] == [("7 + 8", 3)]  # no catalogue: ids
    assert table.rows[0]["support"] == 3 / 6
