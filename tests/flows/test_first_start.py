"""A flow's first start (a store connected, a flow switched on) mails nobody for what happened
before it: those people wait in a backlog the owner may release, spread over days."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from companion.flows.backlog import release
from companion.flows.config import Configs, save_changes
from companion.flows.lifecycle import run_lifecycle_scans
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _order(order_id, at, email, product=7):
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


def _history(store, lapsed=6, vips=2):
    """Customers silent for 100-200 days, and VIPs with five orders each, all before T0."""
    events = [
        _order(f"l{n}", T0 - (100 + n) * DAY, f"lapsed{n}@example.com") for n in range(lapsed)
    ]
    events += [
        _order(f"v{n}-{k}", T0 - (5 + k) * DAY, f"vip{n}@example.com")
        for n in range(vips)
        for k in range(5)
    ]
    store.send(events, T0)


def test_the_first_scan_of_a_store_with_history_mails_nobody_and_holds_who_qualifies(store):
    _history(store)
    assert run_lifecycle_scans(T0) == {"win_back": 0, "vip": 0, "replenishment": 0}
    store.run(T0, T0 + 3 * DAY)
    assert store.messages("win_back") == [] and store.messages("vip") == []
    assert Counter(e.status for e in store.enrolments("win_back")) == {"held": 6}
    assert Counter(e.status for e in store.enrolments("vip")) == {"held": 2}


def test_someone_whose_trigger_comes_after_the_start_is_mailed(store):
    run_lifecycle_scans(T0 - 200 * DAY)  # the flows started long ago, on an empty store
    store.send(
        [_order(1, T0 - 95 * DAY, "ann@example.com")], T0 - 5 * DAY
    )  # too old for post-purchase
    assert run_lifecycle_scans(T0)["win_back"] == 1  # lapsed at T0 - 5 days, after the start
    store.tick(T0 + HOUR, lifecycle=False)
    assert [m.to_email for m in store.messages("win_back")] == ["ann@example.com"]


def test_history_imported_after_the_start_is_held_not_mailed(store):
    run_lifecycle_scans(T0 - DAY)  # connected yesterday; "Sync history" pressed today
    _history(store)
    assert run_lifecycle_scans(T0) == {"win_back": 0, "vip": 0, "replenishment": 0}
    assert Counter(e.status for e in store.enrolments("win_back")) == {"held": 6}
    assert Counter(e.status for e in store.enrolments("vip")) == {"held": 2}


def test_released_backlog_goes_out_spread_over_days_not_in_a_burst(store):
    _history(store, lapsed=6, vips=0)
    run_lifecycle_scans(T0)
    flow = Configs().flow(store.site, "win_back")
    assert release(store.site.id, flow, 2, T0) == {
        "flow": "win_back",
        "started": 6,
        "per_day": 2,
        "days": 3,
    }
    assert release(store.site.id, flow, 2, T0)["started"] == 0  # a second click starts nobody twice
    store.run(T0, T0 + 4 * DAY, lifecycle=False)
    first_mails = [m for m in store.messages("win_back") if m.step == 1]
    assert len(first_mails) == 6
    per_day = Counter((m.created_at - T0) // DAY for m in first_mails)
    assert per_day == {0: 2, 1: 2, 2: 2}


def test_an_order_ends_a_held_enrolment_so_the_backlog_counts_only_who_still_qualifies(store):
    _history(store, lapsed=2, vips=0)
    run_lifecycle_scans(T0)
    store.send([_order(99, T0 + HOUR, "lapsed0@example.com")], T0 + HOUR)
    assert Counter(e.status for e in store.enrolments("win_back")) == {"held": 1, "exited": 1}


def test_a_flow_switched_off_and_on_again_starts_afresh(store):
    run_lifecycle_scans(T0 - 200 * DAY)
    save_changes(store.site, "win_back", {"enabled": False})
    run_lifecycle_scans(T0 - 100 * DAY)
    store.send([_order(1, T0 - 95 * DAY, "ann@example.com")], T0 - 95 * DAY)
    save_changes(store.site, "win_back", {"enabled": True})
    assert run_lifecycle_scans(T0)["win_back"] == 0  # lapsed while the flow was off
    assert [e.status for e in store.enrolments("win_back")] == ["held"]


def test_the_owner_sees_how_many_wait_and_starts_them_over_the_api(client, store, other_store):
    _history(store, lapsed=3, vips=0)
    run_lifecycle_scans(T0)
    url = f"/v1/sites/{store.site.public_id}/flows/win_back/backlog"
    answer = client.get(url, headers=bearer(store.new_site))
    assert answer.status_code == 200 and answer.json["waiting"] == 3
    answer = client.post(url, json={"per_day": 2}, headers=bearer(store.new_site))
    assert answer.status_code == 202, answer.json
    assert answer.json == {"flow": "win_back", "started": 3, "per_day": 2, "days": 2}
    assert client.get(url, headers=bearer(store.new_site)).json["waiting"] == 0
    assert client.get(url, headers=bearer(other_store.new_site)).status_code == 401
    assert (
        client.post(
            f"/v1/sites/{store.site.public_id}/flows/abandoned_cart/backlog",
            json={},
            headers=bearer(store.new_site),
        ).status_code
        == 404
    )
    assert client.post(url, json={"per_day": 0}, headers=bearer(store.new_site)).status_code == 422
