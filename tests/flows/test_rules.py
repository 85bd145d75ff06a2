"""Rules every send obeys: suppression, consent, the frequency cap and quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from companion.flows.config import update_flows
from companion.flows.rules import quiet_until
from companion.flows.settlement import suppress
from companion.models import Contact
from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _order_and_cart(store, consent=None):
    extra = {} if consent is None else {"marketing_consent": consent}
    store.send(
        [
            f.order(1, modified=iso(T0), created=iso(T0), paid=iso(T0)),
            f.event("customer.updated", {}, at=iso(T0), **extra),
            f.cart("c1", at=iso(T0)),
        ],
        T0,
    )


def test_a_suppressed_address_gets_no_mail_at_all(store):
    suppress(store.site.id, "Ann@Example.com", "bounce", None, T0)
    _order_and_cart(store)
    store.run(T0, T0 + 4 * DAY, every=6 * HOUR)
    assert store.messages() == []
    assert {e.exit_reason for e in store.enrolments("abandoned_cart")} == {"unsubscribed"}


def test_a_contact_who_refused_marketing_gets_the_receipt_but_no_cart_mail(store):
    _order_and_cart(store, consent=False)
    store.run(T0, T0 + 2 * DAY, every=6 * HOUR)
    assert {m.flow_key for m in store.messages()} == {"post_purchase"}
    assert {s.outcome for s in store.steps("abandoned_cart")} >= {"no marketing consent"}


def test_unknown_consent_follows_the_site_setting(store):
    update_flows(store.site, {"settings": {"unknown_consent": "deny"}})
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + 2 * DAY, every=6 * HOUR)
    assert store.messages() == []
    Contact.update(marketing_consent=True).execute()
    store.send([f.cart("c2", at=iso(T0 + 2 * DAY))], T0 + 2 * DAY)
    store.run(T0 + 2 * DAY, T0 + 3 * DAY, every=6 * HOUR)
    assert store.messages() and all(m.created_at >= T0 + 2 * DAY for m in store.messages())


def test_the_frequency_cap_defers_marketing_mail_until_the_window_has_room(store):
    update_flows(
        store.site,
        {"settings": {"frequency_cap": {"max_messages": 1, "per_hours": 24}, "quiet_hours": None}},
    )
    store.send(
        [f.cart("c1", at=iso(T0)), f.product_view("s1", iso(T0), email="ann@example.com")], T0
    )
    store.run(T0, T0 + 3 * HOUR)
    assert len(store.messages()) == 1
    store.run(T0 + 4 * HOUR, T0 + 26 * HOUR)
    first, second = store.messages()[:2]
    assert second.created_at - first.created_at >= 24 * HOUR


def test_quiet_hours_hold_marketing_mail_until_morning_in_the_shops_time_zone(store):
    evening = datetime(2026, 11, 20, 21, 30)  # 22:30 in Berlin
    store.send([f.cart("c1", at=iso(evening))], evening)
    store.run(evening, evening + 12 * HOUR, every=timedelta(minutes=30))
    [mail] = store.messages("abandoned_cart")
    assert mail.created_at == datetime(2026, 11, 21, 7, 0)  # 08:00 in Berlin


def test_quiet_hours_do_not_hold_a_receipt(store):
    night = datetime(2026, 11, 20, 23, 0)
    store.send([f.order(1, modified=iso(night), created=iso(night), paid=iso(night))], night)
    store.tick(night + HOUR)
    assert [m.flow_key for m in store.messages()] == ["post_purchase"]


def test_quiet_hours_are_computed_across_daylight_saving_changes():
    quiet = {"start": "21:00", "end": "08:00"}
    summer = quiet_until("Europe/Berlin", quiet, datetime(2026, 7, 1, 20, 0))  # 22:00 CEST
    winter = quiet_until("Europe/Berlin", quiet, datetime(2026, 1, 1, 21, 0))  # 22:00 CET
    assert summer == datetime(2026, 7, 2, 6, 0) and winter == datetime(2026, 1, 2, 7, 0)
    assert quiet_until("Europe/Berlin", quiet, datetime(2026, 1, 1, 12, 0)) is None
