"""Smart sending: win-back, VIP and replenishment write to people out of the blue, so not to
someone shopping right now (a cart, an order in flight) or mailed marketing in the last hours."""

from __future__ import annotations

from datetime import timedelta

from companion.flows.config import SITE_KEY, save_changes
from companion.flows.lifecycle import run_lifecycle_scans
from companion.models import Contact
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _order(order_id, at, email="ann@example.com", status="processing", product=7):
    item = [
        {"product_id": product, "name": "Beans", "quantity": 1, "price": "12.50", "total": "12.50"}
    ]
    return f.order(
        order_id,
        modified=iso(at),
        created=iso(at),
        paid=iso(at) if status != "pending" else None,
        items=item,
        email=email,
        total="12.50",
        status=status,
    )


def _lapsed(store, email="ann@example.com"):
    store.go_live(T0 - 200 * DAY)
    store.send(
        [_order(f"old-{email}", T0 - 95 * DAY, email)], T0 - 5 * DAY
    )  # no post-purchase: too old


def _outcomes(store, flow):
    return [(s.step, s.status, s.outcome) for s in store.steps(flow)]


def test_a_customer_with_a_cart_four_hours_old_gets_the_cart_mail_not_we_miss_you(store):
    _lapsed(store)
    store.send([f.cart("c1", at=iso(T0 - 4 * HOUR))], T0 - 4 * HOUR)
    store.run(T0 - 3 * HOUR, T0 - HOUR, lifecycle=False)  # the cart mail goes out
    assert [m.flow_key for m in store.messages()] == ["abandoned_cart"]
    store.tick(T0)  # the win-back scan finds Ann lapsed
    store.tick(T0 + 2 * HOUR)
    assert [m.flow_key for m in store.messages()] == ["abandoned_cart"]
    assert _outcomes(store, "win_back")[0] == (1, "skipped", "smart sending: active cart")


def test_an_order_in_flight_skips_the_replenishment_reminder(store):
    store.go_live(T0 - 200 * DAY)
    save_changes(store.site, "replenishment", {"replenish_days": {"7": 10}})
    store.send([_order(1, T0 - 9 * DAY)], T0 - 5 * DAY)
    store.send(
        [_order("p1", T0 - 2 * HOUR, status="pending", product=8)], T0 - 2 * HOUR
    )  # saucers, unpaid
    store.tick(T0)
    assert store.messages("replenishment") == []
    assert _outcomes(store, "replenishment") == [(1, "skipped", "smart sending: order in flight")]


def test_a_marketing_mail_in_the_last_sixteen_hours_skips_win_back_and_after_them_it_goes(store):
    _lapsed(store)
    _lapsed(store, "bob@example.com")
    store.send(
        [f.product_view("s-bob", iso(T0 - 6 * HOUR), email="bob@example.com")], T0 - 6 * HOUR
    )
    store.run(T0 - 4 * HOUR, T0 - 3 * HOUR, lifecycle=False)  # browse mail to Bob at T0 - 4 h
    assert [m.to_email for m in store.messages("browse_abandonment")] == ["bob@example.com"]
    store.tick(T0)
    assert [m.to_email for m in store.messages("win_back")] == ["ann@example.com"]
    bob = Contact.get(Contact.email == "bob@example.com").id
    first = [
        (s.step, s.status, s.outcome)
        for s in store.steps("win_back")
        if s.enrolment.contact_id == bob
    ][0:1]
    assert first == [(1, "skipped", "smart sending: mailed lately")]


def test_the_vip_welcome_waits_for_a_shopper_instead_of_being_lost(store):
    store.go_live(T0 - DAY)
    save_changes(
        store.site, "vip", {"reward": {"title": "Free shipping"}}
    )  # the VIP mail needs one
    store.send(
        [_order(f"v{k}", T0 - k * DAY) for k in range(4)]
        + [_order("v9", T0 - HOUR, status="pending")],
        T0 - HOUR,
    )
    store.send([_order("v9", T0 - HOUR, status="processing")], T0)  # paid: the fifth order
    store.tick(T0)
    assert store.messages("vip") == []
    assert _outcomes(store, "vip") == [(1, "pending", "deferred: smart sending: order in flight")]
    store.run(T0 + HOUR, T0 + 14 * HOUR, lifecycle=False)
    assert store.messages("vip") == []
    store.run(
        T0 + 15 * HOUR, T0 + 24 * HOUR, lifecycle=False
    )  # the order is 16 hours old; then quiet hours end
    assert [m.to_email for m in store.messages("vip")] == ["ann@example.com"]


def test_the_owner_sets_the_window_per_site_and_zero_turns_it_off(store):
    save_changes(store.site, SITE_KEY, {"smart_sending_hours": 0})
    _lapsed(store)
    store.send([f.cart("c1", at=iso(T0 - 4 * HOUR))], T0 - 4 * HOUR)
    store.tick(T0)
    assert [m.flow_key for m in store.messages("win_back")] == ["win_back"]


def test_the_window_is_a_shared_flow_setting_of_the_api(client, store):
    url = f"/v1/sites/{store.site.public_id}/flows"
    assert (
        client.get(url, headers=bearer(store.new_site)).json["settings"]["smart_sending_hours"]
        == 16
    )
    answer = client.put(
        url, json={"settings": {"smart_sending_hours": 24}}, headers=bearer(store.new_site)
    )
    assert answer.status_code == 200 and answer.json["settings"]["smart_sending_hours"] == 24
    bad = client.put(
        url, json={"settings": {"smart_sending_hours": -1}}, headers=bearer(store.new_site)
    )
    assert bad.status_code == 422


def test_run_lifecycle_scans_is_unchanged_for_customers_not_shopping(store):
    _lapsed(store)
    assert run_lifecycle_scans(T0)["win_back"] == 1
    store.tick(T0 + HOUR, lifecycle=False)
    assert [m.flow_key for m in store.messages()] == ["win_back"]
