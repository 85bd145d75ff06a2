"""A step that asks something of a customer (a review) or recommends products goes to a contact
at most once a month, however many orders enrol them: a simulated month on the demo store sent
one customer three review requests in eleven days, one per order."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _order(order_id, at, email="ann@example.com", product=7):
    item = [
        {"product_id": product, "name": "Beans", "quantity": 1, "price": "12.50", "total": "12.50"}
    ]
    return f.order(
        order_id,
        status="completed",  # the review request waits for completion
        modified=iso(at),
        created=iso(at),
        paid=iso(at),
        completed_at=iso(at),
        items=item,
        email=email,
    )


def _mailed(store, flow, step, email="ann@example.com"):
    return [m for m in store.messages(flow) if m.step == step and m.to_email == email]


def test_three_orders_in_ten_days_get_three_thank_yous_and_one_review_request(store):
    store.go_live(T0 - DAY)
    for n, day in enumerate((0, 4, 9)):
        store.send([_order(n, T0 + day * DAY)], T0 + day * DAY)
    store.send([_order("bob-1", T0, "bob@example.com")], T0)
    store.run(T0, T0 + 45 * DAY, every=6 * HOUR, lifecycle=False)
    assert len(_mailed(store, "post_purchase", 1)) == 3  # transactional: one per order
    assert len(_mailed(store, "post_purchase", 2)) == 1
    assert len(_mailed(store, "post_purchase", 2, "bob@example.com")) == 1  # others unaffected
    skipped = [
        s.outcome for s in store.steps("post_purchase") if s.step == 2 and s.status == "skipped"
    ]
    assert len(skipped) == 2 and all("at most once in 30 days" in why for why in skipped), skipped


def test_a_month_later_the_next_order_gets_its_review_request_again(store):
    store.go_live(T0 - DAY)
    store.send([_order(1, T0)], T0)
    store.send([_order(2, T0 + 31 * DAY)], T0 + 31 * DAY)
    store.run(T0, T0 + 45 * DAY, every=6 * HOUR, lifecycle=False)
    assert len(_mailed(store, "post_purchase", 2)) == 2
