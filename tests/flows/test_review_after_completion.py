"""The review request (post_purchase step 2) asks about an order the customer has: it goes once
the order is completed (DESIGN 6: "review request after completion"), not to someone whose
parcel has not left yet."""

from __future__ import annotations

from datetime import timedelta

from companion.models import Order
from tests import factories as f
from tests.flows.store import T0, iso

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


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
    # the completion wakes it: the next beat sends it, not the daily recheck
    assert done <= mails[1].created_at <= done + HOUR


def test_a_waiting_review_request_is_rechecked_daily_when_no_completion_arrives(store):
    """The completion came in a way the service did not see as a change (the order first known
    as completed after a restore from backup, say): the daily recheck still finds it."""
    store.send([_order("processing", T0)], T0)
    store.run(T0, T0 + 8 * DAY)
    [review] = [s for s in store.steps("post_purchase") if s.step == 2]
    assert review.outcome == "deferred: order not completed yet"
    assert review.due_at - (T0 + 8 * DAY) <= DAY
    Order.update(status="completed").execute()  # behind the triggers' back
    store.run(T0 + 8 * DAY + HOUR, T0 + 10 * DAY)
    assert [m.step for m in store.messages("post_purchase")] == [1, 2]


def test_a_completion_wakes_only_its_own_orders_waiting_step(store):
    bob = f.order(2, modified=iso(T0), created=iso(T0), paid=iso(T0), email="bob@example.com")
    store.send([_order("processing", T0), bob], T0)
    store.run(T0, T0 + 8 * DAY)
    done = T0 + 8 * DAY + 30 * MINUTE
    store.send([_order("completed", done, completed_at=iso(done))], done)
    ids = {o.id: o.external_id for o in Order.select()}
    due = {
        ids[int(s.enrolment.key.split(":")[1])]: s.due_at
        for s in store.steps("post_purchase")
        if s.step == 2
    }
    assert due["1"] == done and due["2"] > done


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
