"""Sending through SendGrid (Prism plays it): every flow's mail is accepted, refusals are recorded,
and no race or crash sends a step twice or loses it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from companion.core.db import database
from companion.email.sendgrid import MESSAGE_ID_ARG, TransientSendError, parse_events
from companion.flows import enrolment as enrolment_module
from companion.flows.config import save_changes
from companion.flows.scans import run_minute_scans
from companion.flows.sending import claim_steps, send_claimed, send_steps
from companion.flows.settlement import apply_provider_events, suppress
from companion.flows.tick import due_step_ids, new_run, run_inline
from companion.ingest.carts import mark_abandoned
from companion.models import Contact, Enrolment, Message, ScheduledStep
from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _products():
    return [
        f.event(
            "product.updated",
            {
                "id": pid,
                "name": name,
                "price": price,
                "url": f"https://shop.example/p/{pid}",
                "image": f"https://shop.example/p/{pid}.jpg",
            },
            email=None,
        )
        for pid, name, price in ((7, "Mug", "29.90"), (8, "Saucer", "9.90"), (9, "Beans", "12.50"))
    ]


def _every_flow(store):
    """A shop where each of the eight flows has someone to mail."""
    both = [
        {"product_id": 7, "name": "Mug", "quantity": 1, "price": "29.90", "total": "29.90"},
        {"product_id": 8, "name": "Saucer", "quantity": 1, "price": "9.90", "total": "9.90"},
    ]
    old = T0 - 100 * DAY
    store.go_live(
        T0 - 200 * DAY
    )  # the scanned flows run already: the store's history is not a backlog
    store.send(
        _products()
        + [
            f.order(
                1,
                modified=iso(old),
                created=iso(old),
                paid=iso(old),
                items=both,
                email="eve@example.com",
            ),
            f.order(
                2,
                status="completed",  # the review request waits for completion
                modified=iso(T0),
                created=iso(T0),
                paid=iso(T0),
                completed_at=iso(T0),
                email="ann@example.com",
            ),
            f.cart("c1", at=iso(T0), email="bob@example.com"),
            f.product_view("s1", iso(T0), email="cid@example.com"),
            f.event(
                "subscription.updated",
                {
                    "id": "s-1",
                    "kind": "subscription",
                    "status": "active",
                    "product_id": 9,
                    "expires_at": iso(T0 + 10 * DAY),
                },
                email="dan@example.com",
            ),
            f.event("customer.updated", {}, email="fay@example.com", first_name="Fay"),
        ],
        T0,
    )
    Contact.update(stage="vip").where(Contact.email == "fay@example.com").execute()
    save_changes(store.site, "replenishment", {"replenish_days": {"7": 20}})
    save_changes(
        store.site, "win_back", {"coupon": {"code": "BACK10", "description": "10% off"}}
    )  # its step 2 offers it
    save_changes(store.site, "vip", {"reward": {"title": "Free shipping", "code": "VIPSHIP"}})


def test_every_message_the_flows_produce_is_accepted_by_sendgrid(store, sendgrid):
    _every_flow(store)
    store.run(T0, T0 + 22 * DAY, every=6 * HOUR, transport=sendgrid)
    messages = store.messages()
    produced = {(m.flow_key, m.step) for m in messages}
    assert produced == {
        ("post_purchase", 1),
        ("post_purchase", 2),
        ("post_purchase", 3),
        ("cross_sell", 1),
        ("abandoned_cart", 1),
        ("abandoned_cart", 2),
        ("abandoned_cart", 3),
        ("browse_abandonment", 1),
        ("win_back", 1),
        ("win_back", 2),
        ("vip", 1),
        ("replenishment", 1),
        ("renewal_reminder", 1),
        ("renewal_reminder", 2),
    }
    assert {m.status for m in messages} == {"sent"}, [
        (m.flow_key, m.error) for m in messages if m.error
    ]
    assert len(messages) == len(produced)


def test_marketing_mail_carries_one_click_unsubscribe_headers_and_transactional_mail_does_not(
    store, sendgrid
):
    _every_flow(store)
    store.run(T0, T0 + 2 * DAY, every=6 * HOUR, transport=sendgrid)
    by_flow = {m.flow_key: m for m in store.messages()}
    headers = by_flow["abandoned_cart"].headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://companion.test/u/")
    assert by_flow["post_purchase"].headers == {}


def test_a_message_sendgrid_refuses_is_recorded_as_permanently_failed_and_never_retried(
    store, sendgrid
):
    save_changes(store.site, "post_purchase", {"from_email": "not an address"})
    store.send([f.order(1, modified=iso(T0), created=iso(T0), paid=iso(T0))], T0)
    store.run(T0, T0 + 3 * HOUR, transport=sendgrid)
    [refused] = store.messages("post_purchase")
    assert refused.status == "failed" and "400" in refused.error
    store.run(T0 + 4 * HOUR, T0 + 2 * DAY, every=6 * HOUR, transport=sendgrid)
    assert [m.status for m in store.messages("post_purchase")] == ["failed"]


def _due_carts(store, count):
    store.send(
        [f.cart(f"c{i}", at=iso(T0), email=f"shopper{i}@example.com") for i in range(count)], T0
    )
    mark_abandoned(T0 + HOUR)
    run_minute_scans(T0 + HOUR)
    return due_step_ids(T0 + HOUR)


def test_two_workers_racing_on_the_same_due_steps_send_each_once(store, sendgrid, settings):
    ids = _due_carts(store, 12)
    assert len(ids) == 12
    start, results = threading.Barrier(2), []

    def worker():
        database.connect(reuse_if_open=True)
        try:
            start.wait()
            results.append(send_steps(ids, new_run(settings, T0 + HOUR, sendgrid)))
        finally:
            database.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = store.messages("abandoned_cart")
    assert len(messages) == 12 and len({m.enrolment_id for m in messages}) == 12
    assert {m.status for m in messages} == {"sent"}
    assert sum(r.get("sent", 0) for r in results) == 12


def test_a_worker_that_stalls_past_its_claim_cannot_add_a_second_message(store, sendgrid, settings):
    [step_id] = _due_carts(store, 1)
    token, stalled = claim_steps([step_id], T0 + HOUR)
    later = T0 + HOUR + timedelta(minutes=11)
    run_inline(settings, later, sendgrid)  # the claim went stale: another worker sends the step
    send_claimed(token, stalled, new_run(settings, later, sendgrid))  # the stalled worker wakes up
    [message] = store.messages("abandoned_cart")
    assert message.status == "sent"


def test_a_worker_killed_between_claim_and_record_loses_no_step(store, settings):
    [step_id] = _due_carts(store, 1)
    claim_steps([step_id], T0 + HOUR)  # ... and the worker dies
    run_inline(settings, T0 + HOUR + timedelta(minutes=5), None)
    assert store.messages("abandoned_cart") == []
    run_inline(settings, T0 + HOUR + timedelta(minutes=11), None)
    assert [m.status for m in store.messages("abandoned_cart")] == ["outbox"]


class KilledAfterAccept:
    """SendGrid accepts the request, then the worker process dies before recording the answer."""

    def __init__(self, transport):
        self.transport, self.accepted = transport, []

    def send_batch(self, messages):
        messages = list(messages)
        self.transport.send_batch(messages)
        self.accepted.extend(m.message_id for m in messages)
        raise KeyboardInterrupt("worker killed")


def _provider_event(message, kind):
    body = json.dumps(
        [
            {
                "email": message.to_email,
                "timestamp": int((T0 + 2 * HOUR).timestamp()),
                "event": kind,
                "sg_event_id": f"ev-{kind}",
                "sg_message_id": "prov-1.filter0001",
                MESSAGE_ID_ARG: message.uuid,
            }
        ]
    ).encode()
    return parse_events(body)


def test_a_worker_killed_after_sendgrid_accepted_is_settled_never_sent_again(
    store, sendgrid, settings
):
    _due_carts(store, 1)
    killed = KilledAfterAccept(sendgrid)
    with pytest.raises(KeyboardInterrupt):
        run_inline(settings, T0 + HOUR, killed)
    [message] = store.messages("abandoned_cart")
    assert message.status == "sending" and killed.accepted == [message.uuid]
    store.run(T0 + 2 * HOUR, T0 + 3 * HOUR, transport=sendgrid)
    [message] = store.messages("abandoned_cart")
    assert message.status == "uncertain"
    apply_provider_events(_provider_event(message, "delivered"), T0 + 3 * HOUR)
    [message] = store.messages("abandoned_cart")
    assert (message.status, message.provider_id) == (
        "sent",
        "prov-1",
    ) and message.delivered_at is not None
    assert (
        ScheduledStep.get(
            ScheduledStep.enrolment == message.enrolment_id, ScheduledStep.step == 1
        ).status
        == "done"
    )


def test_an_event_arriving_before_the_timeout_settles_the_send_at_once(store, sendgrid, settings):
    _due_carts(store, 1)
    with pytest.raises(KeyboardInterrupt):
        run_inline(settings, T0 + HOUR, KilledAfterAccept(sendgrid))
    [message] = store.messages("abandoned_cart")
    apply_provider_events(_provider_event(message, "processed"), T0 + HOUR + timedelta(minutes=2))
    assert Message.get_by_id(message.id).status == "sent"


def test_a_scheduler_killed_mid_scan_enrols_everyone_exactly_once_after_restart(store, monkeypatch):
    store.send([f.cart(f"c{i}", at=iso(T0), email=f"shopper{i}@example.com") for i in range(5)], T0)
    mark_abandoned(T0 + HOUR)
    real_chunk, calls = enrolment_module._enrol_chunk, []

    def dies_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("scheduler killed")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(enrolment_module, "CHUNK", 2)
    monkeypatch.setattr(enrolment_module, "_enrol_chunk", dies_on_second_chunk)
    with pytest.raises(SystemExit):
        run_minute_scans(T0 + HOUR)
    monkeypatch.setattr(enrolment_module, "_enrol_chunk", real_chunk)
    run_minute_scans(T0 + HOUR + timedelta(minutes=1))  # the restarted scheduler
    run_minute_scans(
        T0 + HOUR + timedelta(minutes=2)
    )  # and its next beat, over an overlapping window
    enrolled = store.enrolments("abandoned_cart")
    assert sorted(e.key for e in enrolled) == [f"cart:c{i}" for i in range(5)]
    assert (
        ScheduledStep.select().join(Enrolment).where(Enrolment.flow_key == "abandoned_cart").count()
        == 15
    )


class RateLimitedOnce:
    """SendGrid answers 429 with Retry-After to the first request, then accepts."""

    def __init__(self, transport):
        self.transport, self.calls = transport, 0

    def send_batch(self, messages):
        messages, self.calls = list(messages), self.calls + 1
        if self.calls == 1:
            return {
                m.message_id: TransientSendError("SendGrid answered 429", 429, retry_after=120)
                for m in messages
            }
        return self.transport.send_batch(messages)


def test_a_rate_limited_send_waits_for_retry_after_and_then_goes_out_once(store, sendgrid):
    _due_carts(store, 1)
    flaky = RateLimitedOnce(sendgrid)
    store.tick(T0 + HOUR, flaky, lifecycle=False)
    [message] = store.messages("abandoned_cart")
    assert message.status == "retrying" and message.next_attempt_at == T0 + HOUR + timedelta(
        seconds=120
    )
    store.tick(T0 + HOUR + timedelta(seconds=60), flaky, lifecycle=False)
    assert store.messages("abandoned_cart")[0].status == "retrying"
    store.tick(T0 + HOUR + timedelta(seconds=120), flaky, lifecycle=False)
    [message] = store.messages("abandoned_cart")
    assert (message.status, message.attempts, flaky.calls) == ("sent", 2, 2)


def test_an_address_suppressed_while_its_mail_waits_for_a_retry_is_not_mailed(store, sendgrid):
    _due_carts(store, 1)
    flaky = RateLimitedOnce(sendgrid)
    store.tick(T0 + HOUR, flaky, lifecycle=False)
    suppress(store.site.id, "shopper0@example.com", "unsubscribe", None, T0 + HOUR)
    store.tick(T0 + HOUR + timedelta(minutes=5), flaky, lifecycle=False)
    [message] = store.messages("abandoned_cart")
    assert message.status == "failed" and "suppressed" in message.error and flaky.calls == 1
