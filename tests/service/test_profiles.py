"""Events become customer profiles: contacts, orders, refunds, carts, views, visits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from companion.models import (
    Cart,
    Contact,
    Order,
    OrderItem,
    Product,
    ProductView,
    Refund,
    Subscription,
    Visit,
)
from tests.factories import cart, event, order, page_view, product_view, refund
from tests.helpers import bearer, post_events, run_jobs


def _profile(client, site, key: str):
    answer = client.get(f"/v1/sites/{site.site.public_id}/contacts/{key}", headers=bearer(site))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_an_order_builds_a_profile_with_its_items_and_totals(client, site):
    post_events(client, site, [order(100, total="59.80")])
    run_jobs()
    profile = _profile(client, site, "ann@example.com")
    assert profile["first_name"] == "Ann" and profile["orders_count"] == 1
    assert (
        profile["total_spent"] == "59.80"
        and profile["refunded"] == "0.00"
        and profile["net_spent"] == "59.80"
    )
    assert profile["first_order_at"] == "2026-11-20T10:00:00+00:00"
    [placed] = profile["orders"]
    assert placed["id"] == "100" and placed["currency"] == "EUR" and placed["counted"] is True
    assert placed["items"][0] == {
        "product_id": "7",
        "variation_id": "0",
        "sku": "MUG",
        "name": "Mug",
        "quantity": 2,
        "price": "29.90",
        "total": "59.80",
    }


def test_the_same_event_delivered_again_is_a_duplicate_and_applied_once(client, site):
    first = order(100)
    assert post_events(client, site, [first]).json["accepted"] == 1
    again = post_events(client, site, [first, first])
    assert again.json == {"accepted": 0, "duplicates": 2, "rejected": []}
    run_jobs()
    assert Order.select().count() == 1 and OrderItem.select().count() == 1
    assert Contact.get().orders_count == 1


def test_one_snapshot_sent_three_times_under_new_ids_yields_one_order(client, site):
    for _ in range(3):
        post_events(client, site, [order(100)])
        run_jobs()
    assert Order.select().count() == 1 and OrderItem.select().count() == 1
    assert Contact.get().total_spent == Decimal("59.80")


def test_an_older_snapshot_arriving_late_changes_nothing(client, site):
    post_events(client, site, [order(100, status="completed", modified="2026-11-21T10:00:00Z")])
    run_jobs()
    post_events(
        client,
        site,
        [order(100, status="processing", total="1.00", modified="2026-11-20T10:00:00Z")],
    )
    run_jobs()
    stored = Order.get()
    assert stored.status == "completed" and stored.total == Decimal("59.80")


def test_out_of_order_snapshots_in_one_batch_converge_to_the_newest(client, site):
    newest = order(100, status="completed", modified="2026-11-22T10:00:00Z", total="70.00")
    oldest = order(100, status="pending", paid=None, modified="2026-11-20T10:00:00Z")
    post_events(client, site, [newest, oldest])
    run_jobs()
    assert Order.get().status == "completed" and Order.get().total == Decimal("70.00")


def test_a_newer_snapshot_replaces_items_and_status(client, site):
    post_events(client, site, [order(100, status="pending", paid=None)])
    run_jobs()
    assert Contact.get().orders_count == 0
    items = [{"product_id": 8, "name": "Pot", "quantity": 1, "price": "12.00", "total": "12.00"}]
    post_events(
        client, site, [order(100, modified="2026-11-20T11:00:00Z", total="12.00", items=items)]
    )
    run_jobs()
    assert [i.name for i in OrderItem.select()] == ["Pot"]
    assert Contact.get().orders_count == 1 and Contact.get().total_spent == Decimal("12.00")


def test_refunds_count_once_and_reduce_net_spend(client, site):
    post_events(client, site, [order(100), refund(100, 900, "10.00")])
    post_events(client, site, [refund(100, 900, "10.00"), refund(100, 901, "5.50")])
    run_jobs()
    profile = _profile(client, site, "ann@example.com")
    assert profile["refunded"] == "15.50" and profile["net_spent"] == "44.30"
    assert profile["orders"][0]["refunded"] == "15.50"
    assert Refund.select().count() == 2


def test_a_refund_arriving_before_its_order_attaches_when_the_order_comes(client, site):
    post_events(client, site, [refund(100, 900, "10.00")])
    run_jobs()
    post_events(client, site, [order(100)])
    run_jobs()
    assert Refund.get().order_id == Order.get().id
    assert Order.get().refunded_total == Decimal("10.00") and Contact.get().refunded == Decimal(
        "10.00"
    )


def test_a_deleted_order_stops_counting(client, site):
    post_events(client, site, [order(100)])
    run_jobs()
    post_events(
        client, site, [event("order.deleted", {"order_id": 100}, at="2026-11-21T00:00:00Z")]
    )
    run_jobs()
    assert Contact.get().orders_count == 0 and Order.get().deleted_at is not None


def test_a_guest_and_a_registered_customer_with_one_email_are_one_contact(client, site):
    guest = order(100, email="Ann@Example.com")
    registered = order(
        101,
        email="ann@example.com",
        created="2026-11-21T09:00:00Z",
        modified="2026-11-21T09:00:00Z",
        paid="2026-11-21T09:00:00Z",
    )
    registered["contact"]["wp_user_id"] = 42
    post_events(client, site, [guest, registered])
    run_jobs()
    assert Contact.select().count() == 1
    contact = Contact.get()
    assert (
        contact.email == "ann@example.com"
        and contact.wp_user_id == "42"
        and contact.orders_count == 2
    )


@pytest.mark.parametrize("guest_user_id", [0, "0"])
def test_a_guest_sent_with_user_id_zero_has_no_wordpress_user(client, site, guest_user_id):
    guest = order(100)
    guest["contact"]["wp_user_id"] = guest_user_id  # older plugins sent EDD guests so
    post_events(client, site, [guest])
    run_jobs()
    assert Contact.get().wp_user_id is None


def test_money_stays_exact_and_the_currency_is_kept_per_order(client, site):
    post_events(client, site, [order(1, total="0.10"), order(2, total="0.20", currency="USD")])
    run_jobs()
    assert Contact.get().total_spent == Decimal("0.30")
    assert {o.currency for o in Order.select()} == {"EUR", "USD"}


def test_a_cart_becomes_converted_when_its_order_arrives(client, site):
    post_events(client, site, [cart("tok-1")])
    run_jobs()
    assert Cart.get().status == "active"
    post_events(client, site, [order(100, cart_token="tok-1")])
    run_jobs()
    assert Cart.get().status == "converted" and Cart.get().converted_order_id == Order.get().id


def test_an_order_paid_offline_stays_counted_on_its_day_when_it_is_refunded_in_full(client, site):
    """Cash on delivery never sets a paid date: refunded, the snapshot still says paid_at null."""
    cod = {"payment_method": "cod"}
    post_events(
        client,
        site,
        [
            order(
                100,
                status="processing",
                paid=None,
                created="2026-11-20T09:58:00Z",
                modified="2026-11-20T10:00:00Z",
                **cod,
            )
        ],
    )
    run_jobs()
    first = Order.get()
    assert first.is_counted and first.counted_at.isoformat() == "2026-11-20T09:58:00"
    post_events(
        client,
        site,
        [
            order(
                100,
                status="refunded",
                paid=None,
                created="2026-11-20T09:58:00Z",
                modified="2026-11-22T10:02:00Z",
                **cod,
            ),
            refund(100, 900, "59.80", at="2026-11-22T10:01:00Z"),
        ],
    )
    run_jobs()
    refunded = Order.get()
    assert (
        refunded.is_counted and refunded.counted_at == first.counted_at
    )  # the same order, the same day
    contact = Contact.get()
    assert (contact.orders_count, contact.total_spent, contact.refunded) == (
        1,
        Decimal("59.80"),
        Decimal("59.80"),
    )


def test_a_late_payment_date_does_not_move_the_day_an_order_was_counted(client, site):
    post_events(
        client, site, [order(100, paid="2026-11-20T10:00:00Z", modified="2026-11-20T10:00:00Z")]
    )
    post_events(
        client, site, [order(100, paid="2026-11-21T12:00:00Z", modified="2026-11-21T12:00:00Z")]
    )
    run_jobs()
    assert Order.get().counted_at.isoformat() == "2026-11-20T10:00:00"


def test_a_wholesale_order_of_1100_lines_is_taken_whole(client, site):
    lines = [
        {
            "product_id": n,
            "sku": f"SKU-{n}",
            "name": f"Part {n}",
            "quantity": 1,
            "price": "1.00",
            "total": "1.00",
        }
        for n in range(1100)
    ]
    answer = post_events(client, site, [order(100, total="1100.00", items=lines)])
    assert answer.status_code == 202 and answer.json["accepted"] == 1, answer.json
    run_jobs()
    assert Order.get().total == Decimal("1100.00") and OrderItem.select().count() == 1100


CHECKOUT = [
    cart("tok-1", at="2026-11-20T09:50:00Z"),
    order(100, cart_token="tok-1", created="2026-11-20T09:58:00Z", modified="2026-11-20T10:00:00Z"),
    cart("tok-1", at="2026-11-20T10:00:05Z", items=[], value="0.00"),
]  # the store empties it


@pytest.mark.parametrize("order_of_events", [(0, 1, 2), (2, 1, 0), (1, 0, 2), (0, 2, 1)])
def test_a_checkout_converts_its_cart_whatever_the_order_of_its_events_in_one_batch(
    client, site, order_of_events
):
    post_events(client, site, [CHECKOUT[i] for i in order_of_events])
    run_jobs()
    converted = Cart.get()
    assert (converted.status, converted.converted_order_id) == ("converted", Order.get().id)
    assert converted.value == Decimal("29.90") and len(converted.items) == 1  # what was bought


@pytest.mark.parametrize(
    "batches",
    [
        [[0], [1], [2]],
        [[1], [0], [2]],
        [[1], [2], [0]],
        [[2], [1], [0]],
        [[0, 2], [1]],
        [[1, 2], [0]],
    ],
)
def test_a_checkout_converts_its_cart_whatever_the_order_of_its_batches(client, site, batches):
    for batch in batches:
        post_events(client, site, [CHECKOUT[i] for i in batch])
        run_jobs()
    converted = Cart.get()
    assert (converted.status, converted.converted_order_id) == ("converted", Order.get().id)
    assert converted.value == Decimal("29.90") and len(converted.items) == 1


@pytest.mark.parametrize("order_first", [False, True])
def test_a_guests_cart_gets_the_buyer_of_the_order_placed_from_it(client, site, order_first):
    """The block checkout sends no address with the cart; the order names the buyer."""
    guest_cart = cart("tok-1", at="2026-11-20T09:50:00Z", email=None)
    placed = order(100, cart_token="tok-1", email="guest@example.com")
    for sent in [placed, guest_cart] if order_first else [guest_cart, placed]:
        post_events(client, site, [sent])
        run_jobs()
    buyer = Contact.get(Contact.email == "guest@example.com")
    assert (Cart.get().status, Cart.get().contact_id) == ("converted", buyer.id)


def test_a_cart_emptied_without_an_order_is_emptied_not_converted(client, site):
    post_events(client, site, [CHECKOUT[0], CHECKOUT[2], order(101, cart_token="other-cart")])
    run_jobs()
    assert Cart.get().status == "emptied"


def test_an_emptied_cart_is_marked_emptied_and_an_older_update_is_ignored(client, site):
    post_events(client, site, [cart("tok-1", at="2026-11-20T09:00:00Z", items=[], value="0.00")])
    post_events(client, site, [cart("tok-1", at="2026-11-20T08:00:00Z")])
    run_jobs()
    assert Cart.get().status == "emptied"


def test_anonymous_views_join_the_contact_once_the_session_shows_an_email(client, site):
    post_events(
        client,
        site,
        [product_view("s1", "2026-11-20T09:00:00Z"), page_view("s1", "2026-11-20T09:01:00Z")],
    )
    run_jobs()
    assert ProductView.get().contact_id is None
    post_events(client, site, [cart("tok-1", session="s1", at="2026-11-20T09:05:00Z")])
    run_jobs()
    contact = Contact.get()
    assert ProductView.get().contact_id == contact.id and Visit.get().contact_id == contact.id
    assert len(_profile(client, site, str(contact.id))["product_views"]) == 1


def test_page_views_thirty_minutes_apart_are_two_visits(client, site):
    views = [
        page_view("s1", "2026-11-20T09:00:00Z"),
        page_view("s1", "2026-11-20T09:20:00Z"),
        page_view("s1", "2026-11-20T09:49:00Z"),
        page_view("s1", "2026-11-20T10:30:00Z"),
    ]
    post_events(client, site, views[:2])
    run_jobs()
    post_events(client, site, views[2:])
    run_jobs()
    assert sorted(v.page_views for v in Visit.select()) == [1, 3]


def test_subscriptions_products_and_consent_are_kept(client, site):
    post_events(
        client,
        site,
        [
            event(
                "subscription.updated",
                {
                    "id": 5,
                    "kind": "license",
                    "status": "active",
                    "product_id": 7,
                    "expires_at": "2027-01-01T00:00:00Z",
                    "renewal_url": "https://shop.example/r",
                },
            ),
            event(
                "product.updated",
                {
                    "id": 7,
                    "name": "Mug",
                    "sku": "MUG",
                    "price": "29.90",
                    "categories": ["Kitchen"],
                    "stock_quantity": 12,
                    "status": "publish",
                },
                email=None,
            ),
            event("consent.updated", {"marketing_consent": False}, at="2026-11-20T11:00:00Z"),
            event("customer.updated", {}, at="2026-11-20T10:30:00Z", marketing_consent=True),
        ],
    )
    run_jobs()
    assert (
        Subscription.get().kind == "license" and Subscription.get().contact_id == Contact.get().id
    )
    assert Product.get().stock_quantity == 12 and Product.get().price == Decimal("29.90")
    assert Contact.get().marketing_consent is False


def test_the_contact_list_pages_and_searches(client, site):
    post_events(client, site, [order(i, email=f"buyer{i}@example.com") for i in range(5)])
    run_jobs()
    answer = client.get(
        f"/v1/sites/{site.site.public_id}/contacts?per_page=2&page=2", headers=bearer(site)
    )
    assert answer.json["total"] == 5 and len(answer.json["contacts"]) == 2
    found = client.get(
        f"/v1/sites/{site.site.public_id}/contacts?q=buyer3", headers=bearer(site)
    ).json
    assert [c["email"] for c in found["contacts"]] == ["buyer3@example.com"]
    bad = client.get(f"/v1/sites/{site.site.public_id}/contacts?page=0", headers=bearer(site))
    assert bad.status_code == 422 and "page" in bad.json["fields"]


def test_a_new_contact_keeps_the_names_of_earlier_events_in_its_batch(client, site):
    post_events(client, site, [order(100), refund(100, 900, "1.00", email="ann@example.com")])
    run_jobs()
    contact = Contact.get()
    assert (contact.first_name, contact.last_name) == ("Ann", "Lee")


def test_contact_totals_follow_status_changes_refunds_and_deletes_on_every_engine(client, site):
    post_events(
        client,
        site,
        [
            order(1, total="10.00"),
            order(
                2,
                total="5.25",
                created="2026-11-21T09:00:00Z",
                modified="2026-11-21T09:00:00Z",
                paid="2026-11-21T09:00:00Z",
            ),
            refund(1, 7, "2.50"),
        ],
    )
    run_jobs()
    contact = Contact.get()
    assert (contact.orders_count, contact.total_spent, contact.refunded) == (
        2,
        Decimal("15.25"),
        Decimal("2.50"),
    )
    assert (
        contact.first_order_at.isoformat() == "2026-11-20T10:00:00"
        and contact.last_order_at.day == 21
    )
    post_events(client, site, [event("order.deleted", {"order_id": 1}, at="2026-11-22T00:00:00Z")])
    run_jobs()
    contact = Contact.get()
    assert (contact.orders_count, contact.total_spent, contact.refunded) == (
        1,
        Decimal("5.25"),
        Decimal("0.00"),
    )


def test_several_sessions_identified_in_one_batch_each_join_their_own_contact(client, site):
    post_events(
        client,
        site,
        [
            product_view("s1", "2026-11-20T09:00:00Z"),
            product_view("s2", "2026-11-20T09:00:00Z"),
            page_view("s1", "2026-11-20T09:01:00Z"),
            page_view("s3", "2026-11-20T09:01:00Z"),
        ],
    )
    run_jobs()
    post_events(
        client,
        site,
        [
            cart("t1", session="s1", email="one@example.com", at="2026-11-20T09:05:00Z"),
            cart("t2", session="s2", email="two@example.com", at="2026-11-20T09:05:00Z"),
        ],
    )
    run_jobs()
    owner = {c.id: c.email for c in Contact.select()}
    assert {v.session_key: owner[v.contact_id] for v in ProductView.select()} == {
        "s1": "one@example.com",
        "s2": "two@example.com",
    }
    assert {v.session_key: v.contact_id and owner[v.contact_id] for v in Visit.select()} == {
        "s1": "one@example.com",
        "s3": None,
    }
