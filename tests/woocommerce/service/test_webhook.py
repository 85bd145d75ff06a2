"""POST /v1/sites/<id>/woocommerce: WooCommerce's own webhooks reach profiles like the plugin's
events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from companion.models import Contact, DeadLetter, Order, Product, RawEvent
from companion.sites import set_woo_secret
from tests.helpers import bearer, run_jobs
from tests.woocommerce.service.webhooks import WOO_SECRET, deliver, wc_signature
from tests.woocommerce.woo_data import DATA, documented_order, make_customer, make_product

ORDER_FILE = DATA / "woocommerce" / "order.json"
EMAIL = "john.doe@example.com"


def profile(client: Any, new_site: Any, email: str = EMAIL) -> dict[str, Any]:
    answer = client.get(
        f"/v1/sites/{new_site.site.public_id}/contacts/{email}", headers=bearer(new_site)
    )
    assert answer.status_code == 200, answer.json
    return answer.json


def refunded_order(modified: str = "2017-03-25T10:00:00") -> dict[str, Any]:
    """The documented order three days later, after the shop refunded 5.00 of it."""
    order = documented_order()
    order.update(
        date_modified_gmt=modified,
        refunds=[{"id": 731, "reason": "Arrived scratched", "total": "-5.00"}],
    )
    return order


def nothing_stored() -> bool:
    return RawEvent.select().count() == 0 and DeadLetter.select().count() == 0


def test_the_documented_order_delivered_verbatim_becomes_an_order_in_the_buyers_profile(
    client, woo_site
):
    answer = deliver(client, woo_site, "order.created", ORDER_FILE.read_bytes())
    run_jobs()

    assert answer.status_code == 202
    assert answer.json == {"accepted": 1, "duplicates": 0, "rejected": []}
    buyer = profile(client, woo_site)
    assert (buyer["first_name"], buyer["last_name"], buyer["orders_count"]) == ("John", "Doe", 1)
    assert (buyer["total_spent"], buyer["refunded"]) == ("29.35", "0.00")
    [order] = buyer["orders"]
    assert (order["id"], order["status"], order["currency"], order["total"], order["counted"]) == (
        "727",
        "processing",
        "USD",
        "29.35",
        True,
    )
    assert (order["payment_method"], order["paid_at"]) == ("bacs", "2017-03-22T19:28:08+00:00")
    assert sorted((i["name"], i["quantity"], i["total"]) for i in order["items"]) == [
        ("Ship Your Idea \u2013 Color: Black, Size: M Test", 1, "12.00"),
        ("Woo Single #1", 2, "6.00"),
    ]


def test_a_later_delivery_with_a_refund_inside_adds_the_refund_to_the_profile(client, woo_site):
    deliver(client, woo_site, "order.created", ORDER_FILE.read_bytes())
    answer = deliver(client, woo_site, "order.updated", refunded_order())
    run_jobs()

    assert answer.json == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": [],
    }  # the snapshot and its refund
    buyer = profile(client, woo_site)
    assert (buyer["orders_count"], buyer["total_spent"], buyer["refunded"], buyer["net_spent"]) == (
        1,
        "29.35",
        "5.00",
        "24.35",
    )
    [order] = buyer["orders"]
    assert order["refunded"] == "5.00"
    assert [(r["id"], r["amount"], r["reason"]) for r in order["refunds"]] == [
        ("731", "5.00", "Arrived scratched")
    ]


def test_the_same_delivery_twice_is_stored_once(client, woo_site):
    first = deliver(client, woo_site, "order.updated", refunded_order())
    again = deliver(client, woo_site, "order.updated", refunded_order())
    run_jobs()

    assert first.json["accepted"] == 2
    assert (again.status_code, again.json) == (
        202,
        {"accepted": 0, "duplicates": 2, "rejected": []},
    )
    assert RawEvent.select().count() == 2
    assert profile(client, woo_site)["refunded"] == "5.00"


def test_a_wrong_signature_is_401_and_stores_nothing(client, woo_site):
    answer = deliver(client, woo_site, "order.created", documented_order(), secret="not-the-secret")

    assert answer.status_code == 401
    assert "X-WC-Webhook-Signature does not match" in answer.json["error"]
    assert nothing_stored()


def test_a_missing_signature_is_401_and_stores_nothing(client, woo_site):
    answer = deliver(client, woo_site, "order.created", documented_order(), secret=None)

    assert answer.status_code == 401
    assert "Missing X-WC-Webhook-Signature" in answer.json["error"]
    assert nothing_stored()


def test_a_body_changed_after_signing_is_401(client, woo_site):
    raw = ORDER_FILE.read_bytes()
    signature = wc_signature(WOO_SECRET, raw)

    answer = deliver(
        client,
        woo_site,
        "order.created",
        raw.replace(b'"29.35"', b'"2935.00"'),
        signature=signature,
    )

    assert answer.status_code == 401
    assert nothing_stored()


def test_a_site_without_a_woocommerce_secret_refuses_and_says_how_to_set_it(client, site):
    answer = deliver(client, site, "order.created", documented_order())

    assert answer.status_code == 401
    assert f"companion sites set-woo-secret --site {site.site.public_id}" in answer.json["error"]
    assert nothing_stored()


def test_another_sites_webhook_secret_is_refused(client, woo_site, other_site):
    set_woo_secret(other_site.site, "the-other-shops-secret")

    into_mine = deliver(
        client, woo_site, "order.created", documented_order(), secret="the-other-shops-secret"
    )
    into_theirs = deliver(
        client, other_site, "order.created", documented_order(), secret=WOO_SECRET
    )

    assert (into_mine.status_code, into_theirs.status_code) == (401, 401)
    assert nothing_stored()


def test_an_unknown_site_is_404(client, woo_site):
    answer = client.post(
        "/v1/sites/nosuchsite/woocommerce",
        data=b"{}",
        headers={"X-WC-Webhook-Topic": "order.created"},
    )

    assert answer.status_code == 404


def test_the_ping_sent_when_a_webhook_is_saved_answers_200_and_stores_nothing(client, site):
    # WC_Webhook::deliver_ping: a form post without X-WC-* headers, before any secret may be set
    # here.
    answer = client.post(
        f"/v1/sites/{site.site.public_id}/woocommerce",
        data=b"webhook_id=7",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)",
        },
    )

    assert answer.status_code == 200
    assert nothing_stored()


def test_a_deleted_order_leaves_the_profile_and_a_restored_one_comes_back(client, woo_site):
    deliver(client, woo_site, "order.created", documented_order())
    deleted = deliver(client, woo_site, "order.deleted", {"id": 727})
    run_jobs()

    assert deleted.status_code == 202
    gone = profile(client, woo_site)
    assert (gone["orders_count"], gone["total_spent"], gone["orders"]) == (0, "0.00", [])

    restored = documented_order()
    restored["date_modified_gmt"] = (datetime.now(UTC) + timedelta(seconds=5)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    deliver(client, woo_site, "order.restored", restored)
    run_jobs()

    back = profile(client, woo_site)
    assert (back["orders_count"], back["total_spent"], [o["id"] for o in back["orders"]]) == (
        1,
        "29.35",
        ["727"],
    )


def test_a_product_delivery_updates_the_catalogue(client, woo_site):
    answer = deliver(client, woo_site, "product.updated", make_product(93))
    run_jobs()

    assert answer.status_code == 202
    product = Product.get(Product.site == woo_site.site.id, Product.external_id == "93")
    assert (
        product.name,
        product.sku,
        str(product.price),
        product.categories,
        product.stock_quantity,
    ) == ("Mug & Saucer 93", "MUG-93", "12.5000", ["Kitchen"], 7)


def test_a_customer_delivery_creates_the_profile_with_names_and_phone(client, woo_site):
    answer = deliver(client, woo_site, "customer.created", make_customer(5))
    run_jobs()

    assert answer.status_code == 202
    person = profile(client, woo_site, "customer5@example.com")
    assert (person["first_name"], person["last_name"], person["phone"], person["wp_user_id"]) == (
        "Ada",
        "Lovelace",
        "+44 20 7946 0000",
        "5",
    )


def test_topics_with_nothing_to_keep_answer_200_so_woocommerce_keeps_the_webhook_on(
    client, woo_site
):
    answers = [
        deliver(client, woo_site, topic, {"id": 5})
        for topic in ("customer.deleted", "product.deleted", "coupon.created")
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert nothing_stored()


def test_an_order_that_cannot_be_mapped_is_422_and_kept_as_a_dead_letter(client, woo_site):
    broken = documented_order()
    del broken["date_created_gmt"], broken["date_modified_gmt"]

    answer = deliver(client, woo_site, "order.updated", broken)

    assert answer.status_code == 422
    assert "date_created_gmt" in answer.json["error"]
    [letter] = DeadLetter.select()
    assert json.loads(letter.payload)["id"] == 727 and RawEvent.select().count() == 0


def test_a_signed_body_that_is_not_json_is_400_and_kept_as_a_dead_letter(client, woo_site):
    answer = deliver(client, woo_site, "order.updated", b"<html>not json</html>")

    assert answer.status_code == 400
    assert DeadLetter.select().count() == 1


def test_deliveries_for_one_site_never_reach_another(client, woo_site, other_site):
    deliver(client, woo_site, "order.created", documented_order())
    run_jobs()

    assert Contact.select().where(Contact.site == other_site.site.id).count() == 0
    assert Order.select().where(Order.site == other_site.site.id).count() == 0
    theirs = client.get(
        f"/v1/sites/{other_site.site.public_id}/contacts/{EMAIL}", headers=bearer(other_site)
    )
    assert theirs.status_code == 404
