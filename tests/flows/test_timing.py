"""When mail goes: retries wait out quiet hours, and steps keep their spacing from the moment the
step before them was sent (a late enrolment does not send two steps in the same second)."""

from __future__ import annotations

from datetime import timedelta

from companion.email.sendgrid import TransientSendError
from companion.flows.config import SITE_KEY, save_changes, update_flows
from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
EVENING = T0 + 9 * HOUR + 50 * 60 * timedelta(seconds=1)  # 20:50 in the shop's Europe/Berlin


class RateLimitedOnce:
    """SendGrid answers 429 with Retry-After to the first request, then accepts."""

    def __init__(self, transport):
        self.transport, self.calls = transport, 0

    def send_batch(self, messages):
        messages, self.calls = list(messages), self.calls + 1
        if self.calls == 1:
            return {
                m.message_id: TransientSendError("SendGrid answered 429", 429, retry_after=900)
                for m in messages
            }
        return self.transport.send_batch(messages)


def test_a_marketing_mail_retried_after_quiet_hours_began_waits_until_morning(store, sendgrid):
    store.send([f.cart("c1", at=iso(EVENING - 2 * HOUR))], EVENING - 2 * HOUR)
    flaky = RateLimitedOnce(sendgrid)
    store.tick(EVENING, flaky, lifecycle=False)  # the cart mail, 429: retry at 21:05
    [message] = store.messages("abandoned_cart")
    assert message.status == "retrying"
    store.run(
        EVENING + 15 * 60 * timedelta(seconds=1),
        EVENING + 10 * HOUR,
        every=HOUR / 4,
        transport=flaky,
        lifecycle=False,
    )
    [message] = store.messages("abandoned_cart")
    assert message.status == "retrying" and flaky.calls == 1  # nothing between 21:00 and 08:00
    morning = T0 + 21 * HOUR  # 08:00 in Berlin
    store.tick(morning, flaky, lifecycle=False)
    [message] = store.messages("abandoned_cart")
    assert (message.status, flaky.calls) == ("sent", 2)


def test_a_receipt_retried_at_night_is_not_held(store, sendgrid):
    at = EVENING + HOUR  # 21:50 in Berlin
    store.send([f.order(1, modified=iso(at), created=iso(at), paid=iso(at))], at)
    flaky = RateLimitedOnce(sendgrid)
    store.tick(at + HOUR, flaky, lifecycle=False)
    store.tick(at + HOUR + 15 * 60 * timedelta(seconds=1), flaky, lifecycle=False)
    [receipt] = store.messages("post_purchase")
    assert (receipt.status, flaky.calls) == ("sent", 2)


def test_a_late_enrolment_keeps_the_spacing_between_its_steps(store):
    save_changes(store.site, SITE_KEY, {"quiet_hours": None, "frequency_cap": None})
    # The cart went idle 30 hours ago and is seen only now (a scan that was down, a late event):
    # step 1 (1 h) and step 2 (24 h) are both past.
    store.send([f.cart("c1", at=iso(T0 - 31 * HOUR))], T0 - 2 * HOUR)
    store.run(T0, T0 + 4 * DAY, every=HOUR, lifecycle=False)
    sent = [m.created_at for m in store.messages("abandoned_cart")]
    assert len(sent) == 3
    assert sent[1] - sent[0] >= 23 * HOUR and sent[2] - sent[1] >= 48 * HOUR


def test_a_deferred_step_pushes_the_next_one_so_they_never_go_together(store):
    save_changes(store.site, SITE_KEY, {"frequency_cap": None})
    update_flows(
        store.site, {"flows": {"abandoned_cart": {"steps": [{"step": 2, "delay_hours": 3}]}}}
    )
    evening = EVENING - HOUR  # the cart idles at 19:50: step 1 at 20:50, step 2 due 23:50 (quiet)
    store.send([f.cart("c1", at=iso(evening - HOUR))], evening - HOUR)
    store.run(evening, evening + 20 * HOUR, every=HOUR / 4, lifecycle=False)
    sent = [m.created_at for m in store.messages("abandoned_cart")][:2]
    assert (
        len(sent) == 2 and sent[1] - sent[0] >= 2 * HOUR
    )  # 20:50, then not before 23:50 + quiet: 08:00


def test_step_two_waits_for_a_step_one_held_by_quiet_hours(store):
    save_changes(store.site, SITE_KEY, {"frequency_cap": None})
    update_flows(
        store.site, {"flows": {"abandoned_cart": {"steps": [{"step": 2, "delay_hours": 2}]}}}
    )
    night = T0 + 12 * HOUR  # 23:00 in Berlin: step 1 is held until 08:00, step 2 falls due at 01:00
    store.send([f.cart("c1", at=iso(night - 2 * HOUR))], night - 2 * HOUR)
    store.run(night - HOUR, night + 20 * HOUR, every=HOUR / 4, lifecycle=False)
    sent = [(m.step, m.created_at) for m in store.messages("abandoned_cart")][:2]
    assert [s for s, _ in sent] == [1, 2]
    assert sent[1][1] - sent[0][1] >= HOUR
