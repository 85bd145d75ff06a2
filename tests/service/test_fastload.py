"""The worker's fast conversion gives exactly what a full schema load gives, for every event
type."""

from __future__ import annotations

import json

from bench.traffic import events
from companion.models import RawEvent
from companion.pipeline import to_event
from companion.schemas.events import event_schema
from tests.factories import cart, event, order, page_view, product_view, refund

SAMPLES = [
    order(),
    refund(),
    cart(),
    page_view("s", "2026-11-20T09:00:00+02:00"),
    product_view("s", "2026-11-20T09:00:00Z"),
    event("order.deleted", {"order_id": 5}),
    event("customer.updated", {}, marketing_consent=True, wp_user_id=7),
    event(
        "product.updated",
        {"id": 7, "name": "Mug", "price": "1.50", "stock_quantity": 3},
        email=None,
    ),
    event(
        "subscription.updated",
        {
            "id": "s1",
            "kind": "subscription",
            "status": "active",
            "expires_at": "2027-01-01T00:00:00-05:00",
        },
        email="MiXed@Example.COM",
    ),
    event("consent.updated", {"marketing_consent": None}),
    *list(events(300)),
]


def test_the_fast_conversion_equals_a_full_schema_load_for_every_event_type():
    for number, raw in enumerate(SAMPLES):
        loaded = event_schema.load(json.loads(json.dumps(raw)))
        fast = to_event(RawEvent(id=number, payload=json.dumps(raw)))
        assert fast.data == loaded["data"], raw["type"]
        assert (
            fast.contact == loaded.get("contact")
            and fast.id == loaded["id"]
            and fast.type == loaded["type"]
        )
        assert fast.session_key == loaded.get("session_id")
