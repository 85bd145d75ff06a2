"""Win-back, VIP and replenishment: from the intelligence job's stages and predictions where
present, else from order history."""

from __future__ import annotations

from datetime import timedelta

from companion.flows.config import Configs, save_changes
from companion.flows.lifecycle import run_lifecycle_scans
from companion.flows.replenishment import reorder_intervals
from companion.models import Contact
from tests import factories as f
from tests.flows.store import T0, iso

DAY = timedelta(days=1)


def _order(order_id, at, email="ann@example.com", product=7):
    item = [
        {"product_id": product, "name": "Beans", "quantity": 1, "price": "12.50", "total": "12.50"}
    ]
    return f.order(
        order_id,
        modified=iso(at),
        created=iso(at),
        paid=iso(at),
        items=item,
        email=email,
        total="12.50",
    )


def test_a_customer_silent_for_ninety_days_is_won_back_once_per_lapse(store):
    store.go_live(T0 - 400 * DAY)
    store.send([_order(1, T0 - 95 * DAY), _order(2, T0 - 30 * DAY, email="bob@example.com")], T0)
    assert run_lifecycle_scans(T0)["win_back"] == 1
    assert run_lifecycle_scans(T0 + DAY)["win_back"] == 0
    [enrolment] = store.enrolments("win_back")
    assert Contact.get_by_id(enrolment.contact_id).email == "ann@example.com"


def test_a_won_back_customer_who_lapses_again_is_enrolled_again(store):
    store.go_live(T0 - 400 * DAY)
    store.send([_order(1, T0 - 95 * DAY)], T0)
    run_lifecycle_scans(T0)
    store.send([_order(2, T0 + DAY)], T0 + DAY)
    assert store.enrolments("win_back")[0].exit_reason == "order"
    assert run_lifecycle_scans(T0 + 92 * DAY)["win_back"] == 1


def test_win_back_ends_for_an_order_after_the_lapse_even_a_late_one_and_not_for_an_older_one(
    store,
):
    store.go_live(T0 - 400 * DAY)
    store.send([_order(1, T0 - 95 * DAY)], T0)
    run_lifecycle_scans(T0)
    store.send([_order(0, T0 - 300 * DAY)], T0 + DAY)  # older than the lapse: a history import
    assert [(e.status, e.exit_reason) for e in store.enrolments("win_back")] == [("active", None)]
    store.send([_order(2, T0 - DAY)], T0 + DAY)  # placed before the scan, synced after it
    assert [(e.status, e.exit_reason) for e in store.enrolments("win_back")] == [
        ("exited", "order")
    ]


def test_predictions_pick_win_back_candidates_when_the_intelligence_job_filled_them(store):
    store.go_live(T0 - 400 * DAY)
    store.send([_order(1, T0 - 20 * DAY), _order(2, T0 - 20 * DAY, email="bob@example.com")], T0)
    Contact.update(p_alive=0.9, expected_next_order_at=T0 + 30 * DAY).execute()
    Contact.update(p_alive=0.2).where(Contact.email == "bob@example.com").execute()
    run_lifecycle_scans(T0)
    assert [Contact.get_by_id(e.contact_id).email for e in store.enrolments("win_back")] == [
        "bob@example.com"
    ]


def test_vips_come_from_the_stage_and_without_stages_from_their_order_count(store):
    store.go_live(T0 - 400 * DAY)
    store.send(
        [_order(i, T0 - i * DAY) for i in range(1, 6)] + [_order(9, T0, email="bob@example.com")],
        T0,
    )
    assert run_lifecycle_scans(T0)["vip"] == 1  # no stages yet: five orders make Ann a VIP
    Contact.update(stage="vip").where(Contact.email == "bob@example.com").execute()
    assert run_lifecycle_scans(T0 + DAY)["vip"] == 1
    assert run_lifecycle_scans(T0 + 2 * DAY)["vip"] == 0


def test_the_reorder_interval_is_learned_from_repeat_purchases(store):
    store.go_live(T0 - 400 * DAY)
    save_changes(
        store.site, "vip", {"enabled": False}
    )  # else their VIP mail goes first and smart sending skips this
    buyers = [f"{name}@example.com" for name in "abcde"]  # five repeat buyers of the product
    events = [
        _order(f"{b}-{n}", T0 - (90 - 30 * n) * DAY, email=b) for b in buyers for n in range(3)
    ]
    store.send(events, T0)
    assert round(reorder_intervals(store.site.id, T0, {})["7"]) == 30
    assert (
        run_lifecycle_scans(T0)["replenishment"] == 5
    )  # last bought 30 days ago: due from day 25.5
    store.tick(T0 + timedelta(hours=1))
    assert {m.subject for m in store.messages("replenishment")} == {"Time to restock Beans?"}


def test_an_owner_can_set_the_interval_and_an_order_of_the_product_ends_the_reminder(store):
    store.go_live(T0 - 400 * DAY)
    save_changes(store.site, "replenishment", {"replenish_days": {"7": 10}})
    assert Configs().flow(store.site, "replenishment").extras["replenish_days"] == {"7": 10}
    store.send([_order(1, T0)], T0)
    assert run_lifecycle_scans(T0 + 9 * DAY)["replenishment"] == 1
    store.send([_order(2, T0 + 9 * DAY + timedelta(hours=2))], T0 + 9 * DAY + timedelta(hours=2))
    assert store.enrolments("replenishment")[0].exit_reason == "order"
