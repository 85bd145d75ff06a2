"""The fast event check gives marshmallow's answer: the same loaded event, or "ask marshmallow"
for everything marshmallow refuses (and never a different value)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from companion.schemas.events import event_schema
from companion.schemas.fastcheck import load_event
from companion.woocommerce.mapping import order_to_events
from tests.factories import cart, order, page_view, product_view, refund
from tests.woocommerce.woo_data import documented_order

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00",
            "12.50",
            "-1",
            "a@b.example",
            "EUR",
            "",
            "processing",
            "woocommerce",
            "order.updated",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=12,
)
TEMPLATES = [
    order(),
    order(status="refunded", email=None),
    refund(),
    cart(),
    cart(items=[]),
    page_view("s1", "2026-11-20T09:00:00Z", email="Ann@Example.com"),
    product_view("s1", "2026-11-20T09:01:00Z"),
    *order_to_events(documented_order()),
]


def marshmallow_answer(raw: Any) -> dict[str, Any] | None:
    try:
        return event_schema.load(raw)
    except ValidationError:
        return None


def test_every_kind_of_valid_event_takes_the_fast_path_with_marshmallows_result():
    for raw in TEMPLATES:
        expected = marshmallow_answer(raw)
        assert expected is not None, raw
        assert load_event(json.loads(json.dumps(raw))) == expected, raw["type"]


def test_an_email_is_lower_cased_and_a_contactless_event_loads():
    loaded = load_event(page_view("s1", "2026-11-20T09:00:00Z", email="Ann@Example.com"))
    assert loaded is not None and loaded["contact"]["email"] == "ann@example.com"


def test_what_marshmallow_refuses_is_left_to_marshmallow():
    bad = json.loads(json.dumps(order()))
    bad["data"]["items"][0]["quantity"] = -1
    unknown = json.loads(json.dumps(order()))
    unknown["data"]["colour"] = "red"
    naive = json.loads(json.dumps(order()))
    naive["occurred_at"] = "2026-11-20T10:00:00"
    for raw in (bad, unknown, naive, {"type": "order.updated"}, [], None):
        assert marshmallow_answer(raw) is None
        assert load_event(raw) is None


def _place(raw: dict[str, Any], where: str) -> dict[str, Any]:
    if where == "envelope":
        return raw
    if where == "contact":
        return raw.get("contact") if isinstance(raw.get("contact"), dict) else raw
    data = raw["data"]
    if where == "item" and data.get("items"):
        return data["items"][0]
    return data


@settings(max_examples=600, deadline=None)
@given(
    template=st.sampled_from(range(len(TEMPLATES))),
    where=st.sampled_from(["envelope", "data", "item", "contact"]),
    key=st.sampled_from(
        [
            "id",
            "type",
            "source",
            "occurred_at",
            "contact",
            "data",
            "session_id",
            "status",
            "total",
            "currency",
            "items",
            "created_at",
            "modified_at",
            "quantity",
            "price",
            "product_id",
            "attribution",
            "paid_at",
            "email",
            "marketing_consent",
            "categories",
            "value",
            "cart_token",
            "order_id",
            "refund_id",
            "amount",
            "url",
            "extra",
        ]
    ),
    value=json_values,
    drop=st.booleans(),
)
def test_any_mutated_event_gets_marshmallows_answer_or_is_left_to_it(
    template, where, key, value, drop
):
    raw = json.loads(json.dumps(TEMPLATES[template]))
    target = _place(raw, where)
    if drop:
        target.pop(key, None)
    else:
        target[key] = value
    fast = load_event(json.loads(json.dumps(raw)))
    expected = marshmallow_answer(raw)
    if expected is None:
        assert fast is None
    else:
        assert fast in (None, expected)
