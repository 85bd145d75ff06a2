"""Products, customers, deletions, and the two helpers the webhook endpoint relies on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

from companion.woocommerce.mapping import (
    customer_to_event,
    deleted_order_event,
    is_ping,
    product_to_event,
    verify_wc_signature,
)
from tests.woocommerce.woo_data import documented_order, make_customer, make_product


def woo_signature(secret: str, body: bytes) -> str:
    """What WC_Webhook::generate_signature sends: base64 of the raw HMAC-SHA256."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_a_product_becomes_a_product_updated_snapshot() -> None:
    event = product_to_event(make_product(31, modified="2024-05-02T03:04:05"))

    assert (event["type"], event["source"], event["occurred_at"]) == (
        "product.updated",
        "woocommerce",
        "2024-05-02T03:04:05Z",
    )
    assert "contact" not in event
    assert event["data"] == {
        "id": 31,
        "name": "Mug & Saucer 31",
        "sku": "MUG-31",
        "price": "12.50",
        "categories": ["Kitchen"],
        "url": "https://shop.example/product/mug-31/",
        "image": "https://shop.example/mug-31.jpg",
        "stock_quantity": 7,
        "status": "instock",
    }


def test_a_products_status_says_whether_the_shop_sells_it_now() -> None:
    """A published product carries its stock status, any other its post status, as the plugin
    sends them (docs/plugin.md): the flows offer neither a sold-out nor an unpublished one."""
    statuses = [
        ("publish", "outofstock", "outofstock"),
        ("publish", "onbackorder", "onbackorder"),
        ("publish", None, "publish"),  # an older WooCommerce without stock_status
        ("draft", "instock", "draft"),
        ("private", "instock", "private"),
    ]
    for status, stock_status, sent in statuses:
        product = {**make_product(34), "status": status, "stock_status": stock_status}
        assert product_to_event(product)["data"]["status"] == sent


def test_a_variable_product_without_price_sku_or_image_maps_to_nulls() -> None:
    product = make_product(32)
    product.update(price="", sku="", images=[], stock_quantity=None, categories=[])

    data = product_to_event(product)["data"]

    assert (
        data["price"],
        data["sku"],
        data["image"],
        data["stock_quantity"],
        data["categories"],
    ) == (None, None, None, None, [])


def test_a_changed_product_is_a_new_event_and_an_unchanged_one_a_duplicate() -> None:
    first, same = product_to_event(make_product(33)), product_to_event(make_product(33))
    cheaper = make_product(33)
    cheaper["price"] = "9.99"

    assert first["id"] == same["id"]
    assert product_to_event(cheaper)["id"] != first["id"]


def test_a_customer_becomes_a_customer_updated_carrying_only_the_contact() -> None:
    event = customer_to_event(make_customer(12, modified="2024-05-06T07:08:09"))

    assert (event["type"], event["occurred_at"], event["data"]) == (
        "customer.updated",
        "2024-05-06T07:08:09Z",
        {},
    )
    assert event["contact"] == {
        "email": "customer12@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+44 20 7946 0000",
        "wp_user_id": 12,
    }


def test_a_customer_without_names_falls_back_to_the_billing_address() -> None:
    customer = make_customer(13)
    customer.update(first_name="", last_name="")
    customer["billing"].update(first_name="Grace", last_name="Hopper")

    contact = customer_to_event(customer)["contact"]

    assert (contact["first_name"], contact["last_name"]) == ("Grace", "Hopper")


def test_a_deleted_order_is_an_order_deleted_whose_id_is_stable_for_the_same_deletion() -> None:
    at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    event = deleted_order_event(727, occurred_at=at)

    assert (event["type"], event["occurred_at"], event["data"]) == (
        "order.deleted",
        "2024-05-01T12:00:00Z",
        {"order_id": 727},
    )
    assert deleted_order_event(727, occurred_at=at)["id"] == event["id"]
    assert deleted_order_event(728, occurred_at=at)["id"] != event["id"]


def test_an_order_trashed_again_after_a_restore_is_a_new_deletion() -> None:
    first = deleted_order_event(727, occurred_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    again = deleted_order_event(727, occurred_at=datetime(2024, 5, 3, 9, 0, tzinfo=UTC))

    assert again["id"] != first["id"]


def test_event_ids_are_uuids_and_do_not_collide_across_kinds() -> None:
    ids = [
        product_to_event(make_product(1))["id"],
        customer_to_event(make_customer(1))["id"],
        deleted_order_event(1)["id"],
    ]

    assert len(set(ids)) == 3
    assert all(len(i) == 36 and i.count("-") == 4 for i in ids)


def test_a_body_signed_by_woocommerce_verifies() -> None:
    body = json.dumps(documented_order()).encode()

    assert verify_wc_signature("s3cret", body, woo_signature("s3cret", body))


def test_a_single_changed_byte_fails_verification() -> None:
    body = json.dumps(documented_order()).encode()
    signature = woo_signature("s3cret", body)

    assert not verify_wc_signature("s3cret", body.replace(b"29.35", b"29.36"), signature)


def test_a_wrong_secret_or_a_missing_header_fails_verification() -> None:
    body = b'{"id": 1}'

    assert not verify_wc_signature("other", body, woo_signature("s3cret", body))
    assert not verify_wc_signature("s3cret", body, None)
    assert not verify_wc_signature("s3cret", body, "")
    assert not verify_wc_signature("", body, woo_signature("", body))


def test_a_secret_saved_html_escaped_verifies_as_woocommerce_decodes_it() -> None:
    body = b'{"id": 2}'
    signed_by_woo = woo_signature("a&b<c>'d", body)  # wp_specialchars_decode(secret, ENT_QUOTES)

    assert verify_wc_signature("a&amp;b&lt;c&gt;&#039;d", body, signed_by_woo)
    assert verify_wc_signature("a&b<c>'d", body, signed_by_woo)


def test_the_creation_ping_is_recognised_and_nothing_else_is() -> None:
    assert is_ping("application/x-www-form-urlencoded", b"webhook_id=12")
    assert is_ping(None, b"webhook_id=3")
    assert not is_ping("application/json", b"webhook_id=12")
    assert not is_ping("application/x-www-form-urlencoded", b"webhook_id=12&x=1")
    assert not is_ping("application/json", json.dumps(documented_order()).encode())
