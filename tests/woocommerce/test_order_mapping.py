"""WooCommerce REST v3 order -> `order.updated` and `order.refunded` events (DESIGN 3.1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from companion.woocommerce.mapping import normalise_status, order_to_events
from tests.woocommerce.woo_data import attribution_meta, documented_order, make_order


def only_snapshot(order: dict[str, Any]) -> dict[str, Any]:
    events = order_to_events(order)
    assert events[0]["type"] == "order.updated"
    return events[0]


def test_the_documented_rest_order_maps_field_by_field() -> None:
    events = order_to_events(documented_order())

    assert len(events) == 1
    event = events[0]
    assert set(event) == {"id", "type", "source", "occurred_at", "contact", "data"}
    assert (event["type"], event["source"], event["occurred_at"]) == (
        "order.updated",
        "woocommerce",
        "2017-03-22T19:28:08Z",
    )
    assert event["contact"] == {
        "email": "john.doe@example.com",
        "first_name": "John",
        "last_name": "Doe",
        "phone": "(555) 555-5555",
    }
    assert event["data"] == {
        "id": 727,
        "number": "727",
        "status": "processing",
        "currency": "USD",
        "total": "29.35",
        "subtotal": "18.00",
        "discount_total": "0.00",
        "tax_total": "1.35",
        "shipping_total": "10.00",
        "coupons": [],
        "items": [
            {
                "product_id": 93,
                "variation_id": None,
                "sku": None,
                "name": "Woo Single #1",
                "quantity": 2,
                "price": "3.00",
                "total": "6.00",
                "categories": [],
            },
            {
                "product_id": 22,
                "variation_id": 23,
                "sku": "Bar3",
                "name": "Ship Your Idea \u2013 Color: Black, Size: M Test",
                "quantity": 1,
                "price": "12.00",
                "total": "12.00",
                "categories": [],
            },
        ],
        "payment_method": "bacs",
        "created_via": "rest-api",
        "attribution": None,
        "device": None,
        "cart_token": None,
        "parent_id": None,
        "is_renewal": False,
        "created_at": "2017-03-22T19:28:02Z",
        "paid_at": "2017-03-22T19:28:08Z",
        "completed_at": None,
        "modified_at": "2017-03-22T19:28:08Z",
    }


def test_times_come_from_the_gmt_fields_and_not_the_shop_local_ones() -> None:
    order = documented_order()
    order["date_created"] = "1999-01-01T00:00:00"  # local fields are ignored
    order["date_completed_gmt"] = "2017-03-23T01:02:03"

    data = only_snapshot(order)["data"]

    assert data["created_at"] == "2017-03-22T19:28:02Z"
    assert data["completed_at"] == "2017-03-23T01:02:03Z"


def test_a_guest_order_has_a_contact_but_no_wordpress_user() -> None:
    contact = only_snapshot(make_order(5, customer_id=0))["contact"]

    assert contact["email"] == "john.doe@example.com"
    assert "wp_user_id" not in contact


def test_a_registered_customers_order_carries_the_wordpress_user_id() -> None:
    assert only_snapshot(make_order(5, customer_id=42))["contact"]["wp_user_id"] == 42


def test_the_email_is_passed_as_given_for_the_service_to_lower_case() -> None:
    assert (
        only_snapshot(make_order(5, email="John.Doe@Example.COM"))["contact"]["email"]
        == "John.Doe@Example.COM"
    )


def test_a_partial_refund_becomes_an_order_refunded_with_a_positive_amount() -> None:
    order = make_order(810, total="100.00", refunds=[(811, "25.50")])

    snapshot, refund = order_to_events(order, refund_dates={811: "2024-05-03T12:00:00"})

    assert snapshot["data"]["status"] == "completed"
    assert refund["type"] == "order.refunded"
    assert refund["data"] == {
        "order_id": 810,
        "refund_id": 811,
        "amount": "25.50",
        "reason": "damaged",
        "created_at": "2024-05-03T12:00:00Z",
    }
    assert refund["occurred_at"] == "2024-05-03T12:00:00Z"
    assert refund["contact"] == snapshot["contact"]


def test_a_fully_refunded_order_has_status_refunded_and_its_refunds_add_up_to_the_total() -> None:
    order = make_order(
        820, total="60.00", status="refunded", refunds=[(822, "40.00"), (821, "20.00")]
    )

    snapshot, *refunds = order_to_events(order)

    assert snapshot["data"]["status"] == "refunded"
    assert [r["data"]["refund_id"] for r in refunds] == [822, 821]
    assert sum(Decimal(r["data"]["amount"]) for r in refunds) == Decimal(snapshot["data"]["total"])


def test_a_refunded_order_paid_offline_is_paid_when_it_was_completed_or_created() -> None:
    """Cash on delivery, bank transfer and cheque never set date_paid; a refund proves the
    payment."""
    completed = make_order(840, total="45.00", status="refunded", refunds=[(841, "45.00")])
    completed.update(date_paid_gmt=None, date_completed_gmt="2024-05-02T09:00:00")
    never_completed = make_order(842, total="45.00", status="refunded", refunds=[(843, "45.00")])
    never_completed.update(date_paid_gmt=None, date_completed_gmt=None)
    assert order_to_events(completed)[0]["data"]["paid_at"] == "2024-05-02T09:00:00Z"
    assert (
        order_to_events(never_completed)[0]["data"]["paid_at"] == "2024-04-30T08:00:00Z"
    )  # created
    pending = make_order(844, status="pending")
    pending.update(date_paid_gmt=None)
    assert order_to_events(pending)[0]["data"]["paid_at"] is None


def test_without_a_known_refund_date_the_refund_is_dated_at_the_orders_last_change() -> None:
    order = make_order(830, refunds=[(831, "5.00")], modified="2024-05-04T08:09:10")

    refund = order_to_events(order)[1]

    assert refund["data"]["created_at"] == "2024-05-04T08:09:10Z"


def test_refunds_keep_their_ids_when_the_order_changes_so_they_are_counted_once() -> None:
    first = order_to_events(
        make_order(840, refunds=[(841, "5.00")], modified="2024-05-01T00:00:00")
    )
    later = order_to_events(
        make_order(840, refunds=[(841, "5.00")], status="cancelled", modified="2024-06-01T00:00:00")
    )

    assert first[1]["id"] == later[1]["id"]
    assert first[0]["id"] != later[0]["id"]


@pytest.mark.parametrize(
    ("currency", "total", "refund"),
    [("EUR", "19.90", "4.95"), ("JPY", "1500", "500"), ("KWD", "12.345", "0.125")],
)
def test_each_order_keeps_its_own_currency_and_exact_amounts(
    currency: str, total: str, refund: str
) -> None:
    snapshot, refunded = order_to_events(
        make_order(9, currency=currency.lower(), total=total, refunds=[(10, refund)])
    )

    assert (snapshot["data"]["currency"], snapshot["data"]["total"]) == (currency, total)
    assert refunded["data"]["amount"] == refund


def test_a_line_for_a_deleted_product_keeps_its_name_without_a_product_id() -> None:
    order = documented_order()
    order["line_items"][0].update(product_id=0, variation_id=0, name="Discontinued &amp; gone")

    item = only_snapshot(order)["data"]["items"][0]

    assert item["product_id"] is None and item["variation_id"] is None
    assert item["name"] == "Discontinued & gone"
    assert (item["quantity"], item["total"]) == (2, "6.00")


def test_order_attribution_meta_becomes_channel_device_and_click_id() -> None:
    data = only_snapshot(make_order(7, meta=attribution_meta()))["data"]

    assert data["attribution"] == {
        "source_type": "utm",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring-sale",
        "click_id": "Cj0KCQ-abc",
    }
    assert data["device"] == "mobile"


def test_an_order_without_attribution_meta_has_none() -> None:
    data = only_snapshot(make_order(7, meta={"_download_permissions_granted": "yes"}))["data"]

    assert (data["attribution"], data["device"]) == (None, None)


def test_a_direct_visit_keeps_its_source_type_and_drops_none_placeholders() -> None:
    meta = {
        "_wc_order_attribution_source_type": "typein",
        "_wc_order_attribution_utm_source": "(direct)",
        "_wc_order_attribution_utm_medium": "(none)",
        "_wc_order_attribution_device_type": "Desktop",
    }

    data = only_snapshot(make_order(7, meta=meta))["data"]

    assert data["attribution"] == {
        "source_type": "typein",
        "utm_source": "(direct)",
        "utm_medium": None,
        "utm_campaign": None,
        "click_id": None,
    }
    assert data["device"] == "desktop"


@pytest.mark.parametrize(
    ("woo", "paid", "ours"),
    [
        ("pending", False, "pending"),
        ("processing", True, "processing"),
        ("on-hold", False, "on_hold"),
        ("completed", True, "completed"),
        ("cancelled", False, "cancelled"),
        ("refunded", True, "refunded"),
        ("failed", False, "failed"),
        ("checkout-draft", False, "draft"),
        ("trash", True, "cancelled"),
        ("wc-completed", True, "completed"),
        ("On-Hold", False, "on_hold"),
        ("shipped", True, "processing"),
        ("awaiting-payment", False, "pending"),
    ],
)
def test_statuses_are_normalised(woo: str, paid: bool, ours: str) -> None:
    assert normalise_status(woo, paid=paid) == ours


def test_an_on_hold_order_is_on_hold() -> None:
    assert only_snapshot(make_order(3, status="on-hold"))["data"]["status"] == "on_hold"


def test_coupons_payment_method_created_via_and_parent_are_kept() -> None:
    order = documented_order()
    order.update(
        coupon_lines=[{"id": 1, "code": "spring10", "discount": "2.00"}],
        payment_method="stripe",
        created_via="checkout",
        parent_id=700,
    )

    data = only_snapshot(order)["data"]

    assert (data["coupons"], data["payment_method"], data["created_via"], data["parent_id"]) == (
        ["spring10"],
        "stripe",
        "checkout",
        700,
    )


def test_a_subscription_renewal_is_marked_as_such() -> None:
    order = make_order(4, meta={"_subscription_renewal": "3"})

    assert only_snapshot(order)["data"]["is_renewal"] is True


def test_missing_and_empty_fields_give_nulls_and_zeros_instead_of_errors() -> None:
    bare = {
        "id": 77,
        "status": "pending",
        "currency": "usd",
        "date_created_gmt": "2024-01-01T00:00:00",
        "date_modified_gmt": None,
        "total": "",
        "billing": {"email": ""},
        "line_items": None,
    }

    event = only_snapshot(bare)

    assert "contact" not in event
    assert event["occurred_at"] == "2024-01-01T00:00:00Z"
    data = event["data"]
    assert (data["total"], data["subtotal"], data["items"], data["paid_at"]) == (
        "0",
        "0.00",
        [],
        None,
    )
    assert data["currency"] == "USD"


def test_an_order_without_dates_is_refused_with_a_message_naming_it() -> None:
    with pytest.raises(ValueError, match="order 78"):
        order_to_events({"id": 78, "status": "pending"})


def test_the_same_snapshot_twice_has_the_same_ids_and_a_changed_one_new_ids() -> None:
    first = order_to_events(documented_order())
    again = order_to_events(documented_order())
    changed_order = documented_order()
    changed_order["status"] = "completed"  # same second, different content

    assert [e["id"] for e in first] == [e["id"] for e in again]
    assert order_to_events(changed_order)[0]["id"] != first[0]["id"]


def test_no_amount_anywhere_is_a_float() -> None:
    events = order_to_events(make_order(1, refunds=[(2, "1.10")], meta=attribution_meta()))

    def walk(value: Any) -> None:
        assert not isinstance(value, float)
        for child in (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        ):
            walk(child)

    walk(events)


def test_a_line_price_is_the_exact_unit_price_not_woocommerces_float() -> None:
    order = documented_order()
    order["line_items"][0].update(quantity=3, total="10.00", price=3.3333333333333335)

    assert only_snapshot(order)["data"]["items"][0]["price"] == "3.33"
