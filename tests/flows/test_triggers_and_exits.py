"""Events enrol contacts into flows, and the events that make a flow pointless end it at once."""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlsplit

from companion.email.tokens import read_recover_token
from companion.flows.config import update_flows
from companion.models import Order
from tests import factories as f
from tests.flows.store import T0, iso

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _paid_order(order_id: int = 1, at=T0, **extra):
    return f.order(order_id, modified=iso(at), created=iso(at), paid=iso(at), **extra)


def _catalogue_and_an_earlier_order():
    """Mug and saucer, bought together by another customer weeks ago (too old to enrol anyone)."""
    items = [
        {"product_id": pid, "name": name, "quantity": 1, "price": "9.90", "total": "9.90"}
        for pid, name in ((7, "Mug"), (8, "Saucer"))
    ]
    return [
        *(
            f.event(
                "product.updated",
                {"id": pid, "name": name, "price": "9.90", "url": f"https://shop.example/p/{pid}"},
                email=None,
            )
            for pid, name in ((7, "Mug"), (8, "Saucer"))
        ),
        _paid_order(99, at=T0 - 50 * DAY, items=items, email="eve@example.com"),
    ]


def test_a_paid_order_gets_its_thank_you_an_hour_later_and_then_review_and_cross_sell_mail(store):
    store.send(_catalogue_and_an_earlier_order(), T0)
    store.send([_paid_order()], T0)
    store.tick(T0 + 30 * timedelta(minutes=1))
    assert store.messages() == []
    store.tick(T0 + HOUR)
    [thanks] = store.messages()
    assert (thanks.flow_key, thanks.step, thanks.status) == ("post_purchase", 1, "outbox")
    assert thanks.subject == "Thank you for your order 1" and thanks.to_email == "ann@example.com"
    shipped = T0 + 2 * DAY  # completed: the review request (day 7) waits for it
    store.run(T0 + HOUR, shipped, every=6 * HOUR)
    store.send(
        [
            f.order(
                1,
                status="completed",
                modified=iso(shipped),
                created=iso(T0),
                paid=iso(T0),
                completed_at=iso(shipped),
            )
        ],
        shipped,
    )
    store.run(shipped, T0 + 22 * DAY, every=6 * HOUR)
    sent = [(m.flow_key, m.step) for m in store.messages()]
    assert sent == [
        ("post_purchase", 1),
        ("cross_sell", 1),
        ("post_purchase", 2),
        ("post_purchase", 3),
    ]
    assert {e.status for e in store.enrolments("post_purchase")} == {"completed"}


def test_an_order_seen_twice_enrols_once(store):
    store.send([_paid_order()], T0)
    store.send([_paid_order(modified_at=iso(T0 + HOUR), status="completed")], T0 + HOUR)
    assert len(store.enrolments("post_purchase")) == 1 and len(store.steps("post_purchase")) == 3


def test_an_old_order_arriving_with_a_history_import_enrols_nobody(store):
    store.send([_paid_order(at=T0 - 90 * DAY)], T0)
    assert store.enrolments("post_purchase") == [] and store.enrolments("cross_sell") == []


def test_first_order_only_leaves_repeat_buyers_out(store):
    update_flows(
        store.site, {"flows": {"post_purchase": {"conditions": {"first_order_only": True}}}}
    )
    store.send([_paid_order(1)], T0)
    store.send([_paid_order(2, at=T0 + DAY)], T0 + DAY)
    number = {f"order:{o.id}": o.external_id for o in Order.select()}
    assert [number[e.key] for e in store.enrolments("post_purchase")] == ["1"]
    cross_sell = {number[e.key]: e.exit_reason for e in store.enrolments("cross_sell")}
    assert cross_sell == {"1": "order", "2": None}


def test_a_refund_ends_post_purchase_mail_at_once(store):
    store.send([_paid_order()], T0)
    store.tick(T0 + HOUR)
    store.send([f.refund(1, amount="10.00", at=iso(T0 + DAY))], T0 + DAY)
    [enrolment] = store.enrolments("post_purchase")
    assert (enrolment.status, enrolment.exit_reason) == ("exited", "refund")
    assert [s.status for s in store.steps("post_purchase")] == ["done", "cancelled", "cancelled"]
    store.run(T0 + DAY, T0 + 30 * DAY, every=DAY)
    assert [m.step for m in store.messages("post_purchase")] == [1]


def test_an_abandoned_cart_gets_three_reminders_with_a_link_that_restores_it(store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + 4 * DAY, every=HOUR)
    mails = store.messages("abandoned_cart")
    assert [m.step for m in mails] == [1, 2, 3]
    assert [m.created_at - T0 for m in mails] == [HOUR, DAY, 3 * DAY]
    assert mails[0].links and any(
        "sc_recover=" in link and link.startswith("https://shop.example/checkout")
        for link in mails[0].links
    )


def test_an_order_ends_the_abandoned_cart_mail(store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + 2 * HOUR)
    store.send([_paid_order(at=T0 + 3 * HOUR, cart_token="c1")], T0 + 3 * HOUR)
    store.run(T0 + 3 * HOUR, T0 + 4 * DAY, every=6 * HOUR)
    assert [m.step for m in store.messages("abandoned_cart")] == [1]
    [enrolment] = store.enrolments("abandoned_cart")
    assert (enrolment.status, enrolment.exit_reason) == ("exited", "order")


def test_an_emptied_cart_ends_the_abandoned_cart_mail(store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + 2 * HOUR)
    store.send([f.cart("c1", at=iso(T0 + 5 * HOUR), items=[])], T0 + 5 * HOUR)
    store.run(T0 + 5 * HOUR, T0 + 4 * DAY, every=6 * HOUR)
    assert [m.step for m in store.messages("abandoned_cart")] == [1]
    assert store.enrolments("abandoned_cart")[0].exit_reason == "cart emptied"


def test_an_anonymous_cart_gets_no_mail(store):
    store.send([f.cart("c1", at=iso(T0), email=None, session="s1")], T0)
    store.run(T0, T0 + 2 * DAY, every=6 * HOUR)
    assert store.messages("abandoned_cart") == []


def test_a_cart_whose_session_later_shows_an_email_gets_its_mail(store):
    store.send([f.cart("c1", at=iso(T0), email=None, session="s1")], T0)
    store.send(
        [f.page_view("s1", iso(T0 + 10 * timedelta(minutes=1)), email="ann@example.com")],
        T0 + 10 * timedelta(minutes=1),
    )
    store.run(T0, T0 + 2 * HOUR)
    [mail] = store.messages("abandoned_cart")
    assert mail.to_email == "ann@example.com"


def test_the_cart_link_carries_a_recovery_token_the_plugin_accepts(store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + HOUR)
    [mail] = store.messages("abandoned_cart")
    [link] = [link for link in mail.links if "sc_recover=" in link]
    token = parse_qs(urlsplit(link).query)["sc_recover"][0]
    payload = read_recover_token(
        store.new_site.secret,
        token,
        site_id=store.site.public_id,
        now=(T0 + 2 * HOUR).replace(tzinfo=UTC).timestamp(),
    )
    assert payload["cart"] == "c1" and payload["items"] == [
        {"product_id": "7", "variation_id": "0", "quantity": 1}
    ]


def test_a_cart_below_the_minimum_value_gets_no_mail(store):
    update_flows(store.site, {"flows": {"abandoned_cart": {"conditions": {"min_value": "50.00"}}}})
    store.send([f.cart("c1", at=iso(T0), value="29.90")], T0)
    store.run(T0, T0 + 2 * DAY, every=6 * HOUR)
    assert store.enrolments("abandoned_cart") == []


def test_products_viewed_by_a_known_contact_bring_a_browse_mail_two_hours_later(store):
    store.send(
        [
            f.event("customer.updated", {}, at=iso(T0), session="s1"),
            f.product_view("s1", iso(T0), email=None),
        ],
        T0,
    )
    store.tick(T0 + HOUR)
    assert store.messages("browse_abandonment") == []
    store.tick(T0 + 2 * HOUR)
    [mail] = store.messages("browse_abandonment")
    assert mail.subject == "Still thinking about Mug?"


def test_a_cart_within_two_hours_of_browsing_cancels_the_browse_mail(store):
    store.send([f.product_view("s1", iso(T0), email="ann@example.com")], T0)
    store.send([f.cart("c1", at=iso(T0 + HOUR))], T0 + HOUR)
    store.run(T0, T0 + 4 * HOUR, every=HOUR)
    assert store.messages("browse_abandonment") == []
    assert store.enrolments("browse_abandonment")[0].exit_reason == "cart"


def _subscription(expires, status="active", at=T0):
    return f.event(
        "subscription.updated",
        {
            "id": "s-1",
            "kind": "license",
            "status": status,
            "product_id": 7,
            "expires_at": iso(expires),
            "renewal_url": "https://shop.example/renew",
        },
        at=iso(at),
    )


def test_an_expiring_licence_gets_a_reminder_a_week_before_and_a_note_after_expiry(store):
    store.send(
        [
            f.event(
                "product.updated",
                {"id": 7, "name": "Mug", "price": "29.90", "url": "https://shop.example/mug"},
            ),
            _subscription(T0 + 30 * DAY),
        ],
        T0,
    )
    store.run(T0, T0 + 32 * DAY, every=12 * HOUR)
    mails = store.messages("renewal_reminder")
    assert [m.step for m in mails] == [1, 2]
    assert [m.subject for m in mails] == ["Your Mug renews soon", "Your Mug has expired"]
    assert mails[0].created_at <= T0 + 23 * DAY + 12 * HOUR and mails[1].created_at >= T0 + 31 * DAY


def test_a_renewal_ends_the_old_reminders_and_schedules_new_ones(store):
    store.send([_subscription(T0 + 10 * DAY)], T0)
    store.send([_subscription(T0 + 375 * DAY, at=T0 + DAY)], T0 + DAY)
    old, new = sorted(store.enrolments("renewal_reminder"), key=lambda e: e.id)
    assert (old.status, old.exit_reason) == ("exited", "renewal") and new.status == "active"
    store.run(T0 + DAY, T0 + 12 * DAY, every=12 * HOUR)
    assert store.messages("renewal_reminder") == []


def test_a_cancelled_subscription_gets_no_reminder(store):
    store.send([_subscription(T0 + 5 * DAY)], T0)
    store.send([_subscription(T0 + 5 * DAY, status="cancelled", at=T0 + HOUR)], T0 + HOUR)
    store.run(T0 + HOUR, T0 + 7 * DAY, every=12 * HOUR)
    assert store.messages("renewal_reminder") == []


def test_an_order_placed_before_the_cart_was_abandoned_does_not_end_its_mail(store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + 2 * HOUR)
    old = T0 - 200 * DAY  # a history import, or an old order's late update, arrives now
    store.send(
        [_paid_order(50, at=old, modified_at=iso(T0 + 3 * HOUR), status="completed")], T0 + 3 * HOUR
    )
    [enrolment] = store.enrolments("abandoned_cart")
    assert (enrolment.status, enrolment.exit_reason) == ("active", None)
    store.run(T0 + 3 * HOUR, T0 + 4 * DAY, every=6 * HOUR)
    assert [m.step for m in store.messages("abandoned_cart")] == [1, 2, 3]


def test_an_order_placed_before_the_one_a_cross_sell_is_about_does_not_end_it(store):
    store.send([_paid_order(2)], T0)
    store.send([_paid_order(1, at=T0 - 200 * DAY, modified_at=iso(T0 + HOUR))], T0 + HOUR)
    number = {f"order:{o.id}": o.external_id for o in Order.select()}
    assert {number[e.key]: (e.status, e.exit_reason) for e in store.enrolments("cross_sell")} == {
        "2": ("active", None)
    }
    store.send([_paid_order(3, at=T0 + DAY)], T0 + DAY)  # a new order still ends it
    assert {number.get(e.key): (e.status, e.exit_reason) for e in store.enrolments("cross_sell")}[
        "2"
    ] == ("exited", "order")
