"""Each step is marketing or transactional (flows/definitions.py): marketing needs consent and
carries List-Unsubscribe; an unsubscribe stops marketing, never the thank-you or renewal notices."""

from __future__ import annotations

from datetime import UTC, timedelta

from companion.email.sendgrid import EmailEvent
from companion.flows.definitions import FLOWS
from companion.flows.settlement import apply_provider_events, suppress
from companion.flows.tracking import unsubscribe
from companion.models import MessageBody
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
PRODUCTS = [
    f.event(
        "product.updated",
        {"id": pid, "name": name, "price": price, "url": f"https://shop.example/p/{pid}"},
        email=None,
    )
    for pid, name, price in ((7, "Mug", "29.90"), (8, "Saucer", "9.90"))
]


def _completed(n, at, **extra):
    """Paid and completed (the review request waits for completion)."""
    return f.order(
        n,
        status="completed",
        modified=iso(at),
        created=iso(at),
        paid=iso(at),
        completed_at=iso(at),
        **extra,
    )


def _order(store, n=1, at=T0, consent=None):
    extra = {} if consent is None else {"marketing_consent": consent}
    store.send(
        PRODUCTS
        + [
            _completed(n, at),
            f.event("customer.updated", {}, at=iso(at), **extra),
        ],
        at,
    )


def _renewal(store, at):
    store.send(
        [
            f.event(
                "subscription.updated",
                {
                    "id": "s-1",
                    "kind": "subscription",
                    "status": "active",
                    "product_id": 9,
                    "expires_at": iso(at + 10 * DAY),
                },
                at=iso(at),
            )
        ],
        at,
    )


def test_every_step_is_classified_and_only_the_receipt_and_renewal_notices_are_transactional():
    transactional = {
        (k, s)
        for k, flow in FLOWS.items()
        for s in range(1, len(flow.delays_hours) + 1)
        if not flow.is_marketing_step(s)
    }
    assert transactional == {("post_purchase", 1), ("renewal_reminder", 1), ("renewal_reminder", 2)}


def test_the_review_request_and_recommendations_need_consent(store):
    _order(store, consent=False)
    store.run(T0, T0 + 22 * DAY, every=6 * HOUR)
    assert [(m.step, m.is_marketing) for m in store.messages("post_purchase")] == [(1, False)]
    assert [(s.step, s.outcome) for s in store.steps("post_purchase")][1:] == [
        (2, "no marketing consent"),
        (3, "no marketing consent"),
    ]


def test_marketing_steps_carry_list_unsubscribe_and_the_receipt_does_not(store):
    saucer = [{"product_id": 8, "name": "Saucer", "quantity": 1, "price": "9.90", "total": "9.90"}]
    store.send(
        [
            f.order(
                2,
                modified=iso(T0),
                created=iso(T0),
                paid=iso(T0),
                items=saucer,
                email="bob@example.com",
            )
        ],
        T0,
    )
    _order(store)  # Ann's mug: step 3 shows the saucer, a best seller
    store.run(T0, T0 + 22 * DAY, every=6 * HOUR)
    mails = {m.step: m for m in store.messages("post_purchase") if m.to_email == "ann@example.com"}
    assert set(mails) == {1, 2, 3}
    assert mails[1].is_marketing is False and "List-Unsubscribe" not in (mails[1].headers or {})
    for step in (2, 3):
        assert mails[step].is_marketing is True
        assert mails[step].headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The receipt's link says what it stops: the shop's marketing, not receipts (month run, 4 Dec).
    bodies = {n: MessageBody.get_by_id(m.body_id) for n, m in mails.items()}
    receipt = bodies[1].text
    assert "Unsubscribe from marketing emails (mails about your purchases still come): " in (
        receipt
    )
    assert ">Unsubscribe from marketing emails</a>" in bodies[1].html
    for step in (2, 3):
        assert "marketing emails" not in bodies[step].text + bodies[step].html
        assert "\nUnsubscribe: " in bodies[step].text and ">Unsubscribe</a>" in bodies[step].html


def test_an_unsubscribe_stops_marketing_but_not_the_thank_you_or_the_renewal_notices(store):
    store.send([f.cart("c1", at=iso(T0 - 2 * HOUR))], T0 - 2 * HOUR)
    store.run(T0 - HOUR, T0, lifecycle=False)
    [cart_mail] = store.messages("abandoned_cart")
    unsubscribe(cart_mail, T0)  # the one-click POST of its List-Unsubscribe
    _order(store, n=2, at=T0 + HOUR)
    _renewal(store, T0 + HOUR)
    store.run(T0 + HOUR, T0 + 22 * DAY, every=6 * HOUR, lifecycle=False)
    sent = sorted((m.flow_key, m.step) for m in store.messages() if m.created_at > T0)
    assert sent == [("post_purchase", 1), ("renewal_reminder", 1), ("renewal_reminder", 2)]
    assert [s.outcome for s in store.steps("post_purchase")][1:] == ["suppressed: unsubscribe"] * 2


def test_an_unsubscribe_reported_by_sendgrid_leaves_the_receipt_and_reminders_running(store):
    _order(store)
    _renewal(store, T0)
    store.run(T0, T0 + 2 * HOUR, lifecycle=False)
    [receipt] = store.messages("post_purchase")
    apply_provider_events(
        [
            EmailEvent(
                "unsubscribe",
                "ann@example.com",
                (T0 + 2 * HOUR).replace(tzinfo=UTC),
                "e1",
                "sg1.x",
                receipt.uuid,
            )
        ],
        T0 + 2 * HOUR,
    )
    assert {
        e.flow_key: e.status
        for e in store.enrolments("post_purchase") + store.enrolments("renewal_reminder")
    } == {"post_purchase": "active", "renewal_reminder": "active"}
    store.run(T0 + 3 * HOUR, T0 + 12 * DAY, every=6 * HOUR, lifecycle=False)
    assert sorted((m.flow_key, m.step) for m in store.messages()) == [
        ("post_purchase", 1),
        ("renewal_reminder", 1),
        ("renewal_reminder", 2),
    ]


def test_a_bounce_or_a_complaint_stops_transactional_mail_too(store):
    suppress(store.site.id, "ann@example.com", "complaint", None, T0)
    _order(store)
    store.run(T0, T0 + 2 * DAY, every=6 * HOUR, lifecycle=False)
    assert store.messages() == []


def test_the_api_says_per_step_which_is_marketing(client, store):
    answer = client.get(
        f"/v1/sites/{store.site.public_id}/flows/post_purchase", headers=bearer(store.new_site)
    )
    assert [s["is_marketing"] for s in answer.json["steps"]] == [False, True, True]
