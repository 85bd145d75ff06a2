"""Every event the WooCommerce mapping produces is one the service's event schema accepts."""

from __future__ import annotations

from typing import Any

from companion.schemas.events import event_schema
from companion.woocommerce.mapping import (
    customer_to_event,
    deleted_order_event,
    order_to_events,
    product_to_event,
)
from tests.woocommerce.woo_data import attribution_meta, documented_order, history, make_order


def mapped_shop() -> list[dict[str, Any]]:
    shop = history(orders=120, products=10, customers=10)
    events = [e for order in shop["orders"] for e in order_to_events(order)]
    events += [product_to_event(p) for p in shop["products"]]
    events += [customer_to_event(c) for c in shop["customers"]]
    events += order_to_events(make_order(1, meta=attribution_meta(), refunds=[(2, "3.00")]))
    return [*events, *order_to_events(documented_order()), deleted_order_event(727)]


def test_every_mapped_event_passes_the_services_event_schema() -> None:
    events = mapped_shop()
    kinds = {e["type"] for e in events}

    loaded = event_schema.load(events, many=True)  # data is checked per type in post_load

    assert len(loaded) == len(events)
    assert kinds == {
        "order.updated",
        "order.refunded",
        "order.deleted",
        "product.updated",
        "customer.updated",
    }


def test_the_schema_reads_money_and_times_exactly_as_mapped() -> None:
    loaded = event_schema.load(order_to_events(documented_order())[0])

    assert str(loaded["data"]["total"]) == "29.35"
    assert loaded["data"]["created_at"].isoformat() == "2017-03-22T19:28:02+00:00"
