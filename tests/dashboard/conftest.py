"""Dashboard tests: a signed-in browser session (the Flask client) over the shared small world."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.session import day
from tests.factories import cart, order, page_view, refund
from tests.helpers import post_events, run_jobs


@pytest.fixture
def shop(client: Any, site: Any) -> Any:
    """A few days of a small shop: two customers, one repeat, one refund, sessions, an abandoned
    cart."""
    events = [
        page_view("s1", day(3, 9)),
        page_view("s2", day(3, 9)),
        page_view("s3", day(2, 9)),
        cart("cart-a", at=day(3, 9), session="s1"),
        order(
            1,
            total="40.00",
            created=day(3),
            paid=day(3),
            modified=day(3),
            cart_token="cart-a",
            items=[_item(7, "Mug", "40.00")],
        ),
        order(
            2,
            total="60.00",
            created=day(2),
            paid=day(2),
            modified=day(2),
            items=[_item(8, "Kettle", "60.00")],
        ),
        order(
            3,
            total="25.00",
            created=day(40),
            paid=day(40),
            modified=day(40),
            email="bo@example.com",
            items=[_item(7, "Mug", "25.00")],
        ),
        refund(2, 901, "60.00", at=day(1)),
        cart("cart-b", at=day(2, 8), email="cy@example.com", session="s3"),
    ]
    events[4]["session_id"] = "s1"
    assert post_events(client, site, events).status_code == 202
    run_jobs()
    return site


def _item(product_id: int, name: str, total: str) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "variation_id": 0,
        "sku": name.upper(),
        "name": name,
        "quantity": 1,
        "price": total,
        "total": total,
        "categories": ["Kitchen"],
    }
