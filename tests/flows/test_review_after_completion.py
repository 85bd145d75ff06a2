"""The review request (post_purchase step 2) asks about an order the customer has: it goes once
the order is completed (DESIGN 6: "review request after completion"), not to someone whose
parcel has not left yet."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _order(status, at, **extra):
    return f.order(
        1,
        status=status,
        modified=iso(at),
        created=iso(T0),
        paid=iso(T0),
        email="ann@example.com",
        **extra,
    )


def test_the_review_request_waits_until_the_order_is_completed(store):
    store.send([_order("processing", T0)], T0)
    store.run(T0, T0 + 10 * DAY)
    assert [m.step for m in store.messages("post_purchase")] == [1]
    [review] = [s for s in store.steps("post_purchase") if s.step == 2]
    assert review.status == "pending" and review.outcome == "deferred: order not completed yet"
    done = T0 + 10 * DAY + 2 * HOUR
    store.send([_order("completed", done, completed_at=iso(done))], done)
    store.run(done, done + DAY)
    mails = store.messages("post_purchase")
    assert [m.step for m in mails] == [1, 2]
    assert done < mails[1].created_at <= done + DAY


def test_a_completed_order_gets_its_review_request_after_seven_days(store):
    store.send([_order("completed", T0, completed_at=iso(T0))], T0)
    store.run(T0, T0 + 8 * DAY)
    mails = store.messages("post_purchase")
    assert [m.step for m in mails] == [1, 2]
    assert T0 + 7 * DAY <= mails[1].created_at < T0 + 8 * DAY


def test_an_order_never_completed_gets_no_review_request_and_the_flow_goes_on(store):
    store.send([_order("processing", T0)], T0)
    store.run(T0, T0 + 70 * DAY, every=6 * HOUR)
    steps = {s.step: (s.status, s.outcome) for s in store.steps("post_purchase")}
    assert steps[2] == ("skipped", "order not completed")
    assert [m.step for m in store.messages("post_purchase")] in ([1], [1, 3])
