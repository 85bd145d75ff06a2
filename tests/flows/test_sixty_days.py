"""Sixty simulated days of a small store, hour by hour, in seconds: time is injected everywhere,
and every rule holds on every message the flows produce. The store comes with a history, so its
first start must mail nobody for the past."""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from companion.flows.backlog import waiting
from companion.flows.config import update_flows
from companion.flows.definitions import DEFAULT_SITE_CONFIG, FLOWS
from companion.flows.settlement import suppress
from companion.models import Contact, Enrolment, IssuedCoupon, Message, MessageBody, ScheduledStep
from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
CUSTOMERS = [f"customer{i}@example.com" for i in range(20)]
CATALOGUE = {7: ("Mug", "29.90"), 8: ("Saucer", "9.90"), 9: ("Beans", "12.50")}
PRODUCT_MAILS = {(key, step) for key, flow in FLOWS.items() for step in flow.product_steps}
HISTORY = [
    f"old{i}@example.com" for i in range(30)
]  # customers from before the store was connected
UNIQUE_COUPON = {"kind": "unique", "discount_type": "percent", "amount": "10", "days_valid": 3}
AB_TESTS = {
    key: {"steps": [{"step": 1, "subject": "A: thanks", "subject_b": "B: {{ shop.name }} says"}]}
    for key in ("post_purchase", "abandoned_cart")
}
SMART = timedelta(hours=DEFAULT_SITE_CONFIG["smart_sending_hours"])


def _history():
    """Orders 100-300 days old; every fifth old customer ordered five times (a VIP, lapsed)."""
    events = []
    for i, email in enumerate(HISTORY):
        for k in range(5 if i % 5 == 0 else 1):
            at = T0 - (100 + 7 * i + 3 * k) * DAY
            events.append(
                f.order(
                    f"h{i}-{k}",
                    modified=iso(at),
                    created=iso(at),
                    paid=iso(at),
                    email=email,
                    items=_items(i),
                )
            )
    return events


def _items(n):
    """Every third order takes a mug and beans, so some products are bought together."""
    chosen = (7, 9) if n % 3 == 0 else (7,)
    return [
        {
            "product_id": pid,
            "name": CATALOGUE[pid][0],
            "quantity": 1,
            "price": CATALOGUE[pid][1],
            "total": CATALOGUE[pid][1],
        }
        for pid in chosen
    ]


def _hour_of_events(rng, moment, counter):
    """What shoppers do in one hour: views, carts, orders (some from carts), refunds, renewals."""
    events = []
    for _ in range(rng.choice([0, 0, 0, 0, 0, 0, 0, 1, 2])):
        email, n = rng.choice(CUSTOMERS), next(counter)
        roll = rng.random()
        if roll < 0.3:
            events.append(
                f.product_view(
                    f"s-{email}", iso(moment), product_id=rng.choice([7, 8, 9]), email=email
                )
            )
        elif roll < 0.6:
            events.append(f.cart(f"cart-{n}", at=iso(moment), email=email))
        elif roll < 0.9:
            events.append(
                f.order(
                    n,
                    modified=iso(moment),
                    created=iso(moment),
                    paid=iso(moment),
                    email=email,
                    cart_token=f"cart-{n - rng.randint(1, 5)}",
                    items=_items(n),
                )
            )
        elif roll < 0.95 and n > 10:
            events.append(
                f.refund(n - 3, refund_id=f"r{n}", amount="5.00", at=iso(moment), email=None)
            )
        else:
            events.append(
                f.event(
                    "subscription.updated",
                    {
                        "id": f"sub-{email}",
                        "kind": "license",
                        "status": "active",
                        "product_id": 9,
                        "expires_at": iso(moment + rng.randint(3, 40) * DAY),
                    },
                    email=email,
                    at=iso(moment),
                )
            )
    return events


def test_sixty_days_of_a_store_run_in_seconds_and_every_rule_holds(store, coupon_shop):
    rng, counter = random.Random(8), iter(range(1, 1_000_000))
    update_flows(store.site, {"flows": {"abandoned_cart": {"coupon": UNIQUE_COUPON}}})
    store.send(
        [
            f.event(
                "product.updated",
                {"id": pid, "name": name, "price": price, "url": f"https://shop.example/p/{pid}"},
                email=None,
            )
            for pid, (name, price) in CATALOGUE.items()
        ],
        T0,
    )
    store.send([f.event("consent.updated", {"marketing_consent": False}, email=CUSTOMERS[0])], T0)
    suppress(store.site.id, CUSTOMERS[1], "unsubscribe", None, T0)
    store.send(_history(), T0)  # "Sync history", then the scheduler starts
    update_flows(store.site, {"flows": AB_TESTS})  # two subjects for two steps
    began = time.perf_counter()
    moment, shopping = T0, defaultdict(list)
    while moment < T0 + 60 * DAY:
        events = _hour_of_events(rng, moment, counter)
        if events:
            store.send(events, moment)
            for e in events:
                if e["type"] in ("cart.updated", "order.updated") and e.get("contact"):
                    shopping[e["contact"]["email"]].append(moment)
        store.tick(moment, lifecycle=moment.hour == 3)
        moment += HOUR
    elapsed = time.perf_counter() - began
    assert elapsed < 180, (
        f"60 simulated days took {elapsed:.0f} s"
    )  # 15-30 s on SQLite, about 60 s on PostgreSQL (commits)
    messages = store.messages()
    _every_flow_mailed_someone(messages)
    _no_product_mail_without_a_product(messages)
    _nothing_twice_and_nothing_lost(moment)
    _never_to_the_suppressed_or_unconsenting(messages)
    _quiet_hours_and_cap_held(messages, store.site.timezone)
    _no_burst_at_start(messages, store.site.id)
    _nothing_out_of_the_blue_to_a_shopper(messages, shopping)
    _every_coupon_is_the_contacts_own(messages, coupon_shop)
    _both_subjects_sent_about_equally(messages)


def _every_coupon_is_the_contacts_own(messages, shop):
    """Each mail that names a single-use code names one issued for that very contact, which the
    store holds for their address; every last cart reminder carries one."""
    issued = {c.code: c for c in IssuedCoupon.select()}
    last_reminders = [m for m in messages if (m.flow_key, m.step) == ("abandoned_cart", 3)]
    assert last_reminders
    for m in messages:
        text = MessageBody.get_by_id(m.body_id).text
        codes = re.findall(r"SC-[A-Z0-9]{12}", text)
        if (m.flow_key, m.step) == ("abandoned_cart", 3):
            assert len(set(codes)) == 1, (m.to_email, text)
        for code in codes:
            coupon = issued[code]
            assert coupon.contact_id == m.contact_id and coupon.enrolment_id == m.enrolment_id
            assert coupon.status == "created" and shop.coupons[code.lower()]["email"] == m.to_email


def _no_burst_at_start(messages, site_id):
    """The history's lapsed customers wait in the backlog; none of them is mailed."""
    assert not [(m.flow_key, m.to_email) for m in messages if m.to_email in HISTORY]
    assert waiting(site_id, "win_back") == len(HISTORY)  # all lapsed before the start


def _nothing_out_of_the_blue_to_a_shopper(messages, shopping):
    """Win-back, VIP and replenishment mail never reaches someone with a cart or order of the last
    16 hours, nor someone mailed marketing in them (smart sending); some of it goes out."""
    smart = [m for m in messages if FLOWS[m.flow_key].smart_sending]
    assert smart, "no win-back, VIP or replenishment mail in 60 days"
    for m in smart:
        assert not [t for t in shopping[m.to_email] if m.created_at - SMART < t <= m.created_at], (
            m.flow_key,
            m.to_email,
        )
        earlier = [
            o
            for o in messages
            if o.to_email == m.to_email
            and o.is_marketing
            and o.id != m.id
            and m.created_at - SMART < o.created_at <= m.created_at
            and o.id < m.id
        ]
        assert not earlier, (m.flow_key, m.to_email, [(o.flow_key, o.created_at) for o in earlier])


def _every_flow_mailed_someone(messages):
    produced = {m.flow_key for m in messages}
    assert produced >= set(FLOWS) - {"vip", "win_back", "replenishment"}, produced


def _no_product_mail_without_a_product(messages):
    product_mails = [m for m in messages if (m.flow_key, m.step) in PRODUCT_MAILS]
    assert {m.flow_key for m in product_mails} >= {"cross_sell", "browse_abandonment"}
    for m in product_mails:
        assert any(
            link.startswith("https://shop.example/p/") or link.endswith("/mug") for link in m.links
        ), (m.flow_key, m.step, m.links)


def _nothing_twice_and_nothing_lost(end):
    pairs = [(m.enrolment_id, m.step) for m in Message.select()]
    assert len(pairs) == len(set(pairs))
    assert ScheduledStep.select().where(ScheduledStep.status == "claimed").count() == 0
    overdue = (
        ScheduledStep.select()
        .join(Enrolment)
        .where(ScheduledStep.status == "pending", ScheduledStep.due_at < end - DAY)
    )
    assert overdue.count() == 0, [(s.enrolment.flow_key, s.due_at, s.outcome) for s in overdue]
    assert {m.status for m in Message.select()} == {"outbox"}


def _never_to_the_suppressed_or_unconsenting(messages):
    """No marketing mail without consent or after an unsubscribe; the receipts and renewal notices
    still reach them. Each message is as marketing as its step says, and then carries
    List-Unsubscribe."""
    for m in messages:
        assert m.is_marketing == FLOWS[m.flow_key].is_marketing_step(m.step), (m.flow_key, m.step)
        assert ("List-Unsubscribe" in (m.headers or {})) == m.is_marketing, (m.flow_key, m.step)
    for refused in CUSTOMERS[:2]:
        theirs = [m for m in messages if m.to_email == refused]
        assert theirs and not [(m.flow_key, m.step) for m in theirs if m.is_marketing]
    assert Contact.get(Contact.email == CUSTOMERS[0]).marketing_consent is False


def _quiet_hours_and_cap_held(messages, timezone):
    zone, sent = ZoneInfo(timezone), defaultdict(list)
    for m in messages:
        if m.is_marketing:
            local = m.created_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
            assert 8 <= local.hour < 21, (m.flow_key, local)
            sent[m.to_email].append(m.created_at)
    for times in sent.values():
        times.sort()
        assert all(later - earlier >= DAY for earlier, later in zip(times, times[2:])), times


def _both_subjects_sent_about_equally(messages):
    """The A/B-tested steps sent both subjects, each message the one its variant names, split
    about evenly (hash of enrolment and step)."""
    for key in AB_TESTS:
        tested = [m for m in messages if m.flow_key == key and m.step == 1]
        assert len(tested) >= 40, (key, len(tested))
        assert all(m.subject.startswith(f"{m.variant}: ") for m in tested)
        share_b = sum(m.variant == "B" for m in tested) / len(tested)
        assert 0.35 <= share_b <= 0.65, (key, len(tested), share_b)
