"""Replenishment reminds of consumables only: an interval learned from enough repeat buyers of the
same product, the owner's consumable/never marks, and one mail per contact naming every due
product."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from companion.flows.config import update_flows
from companion.flows.lifecycle import run_lifecycle_scans
from companion.flows.replenishment import reorder_intervals
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
BEANS = {
    "product_id": 9,
    "name": "Beans",
    "quantity": 1,
    "price": "12.50",
    "total": "12.50",
    "categories": ["Coffee"],
}
FILTERS = {
    "product_id": 11,
    "name": "Filters",
    "quantity": 1,
    "price": "4.00",
    "total": "4.00",
    "categories": ["Coffee"],
}
GRINDER = {
    "product_id": 20,
    "name": "Grinder",
    "quantity": 1,
    "price": "189.00",
    "total": "189.00",
    "categories": ["Kitchen"],
}


def _order(key, at, email, items):
    return f.order(
        key,
        modified=iso(at),
        created=iso(at),
        paid=iso(at),
        items=items,
        email=email,
        total="10.00",
    )


def _repeat_buyers(store, count, items, every=30, times=3, prefix="b"):
    """`count` customers each buying `items` `times` times, `every` days apart, the last 30 days
    ago."""
    store.send(
        [
            _order(
                f"{prefix}{n}-{k}", T0 - (30 + every * k) * DAY, f"{prefix}{n}@example.com", items
            )
            for n in range(count)
            for k in range(times)
        ],
        T0,
    )


def test_an_interval_needs_five_customers_who_bought_the_same_product_twice(store):
    _repeat_buyers(store, 4, [BEANS])
    assert "9" not in reorder_intervals(store.site.id, T0, {})
    _repeat_buyers(store, 1, [BEANS], prefix="fifth")
    assert round(reorder_intervals(store.site.id, T0, {})["9"]) == 30


def test_durable_goods_bought_once_by_many_and_twice_by_a_few_get_no_reminder(store):
    store.go_live(T0 - 400 * DAY)
    store.send(
        [_order(f"g{n}", T0 - (n % 60) * DAY, f"g{n}@example.com", [GRINDER]) for n in range(300)],
        T0,
    )
    _repeat_buyers(
        store, 4, [GRINDER], every=40, times=2, prefix="twice"
    )  # gifts, second homes, a breakage
    assert "20" not in reorder_intervals(store.site.id, T0, {})
    for day in range(30):
        run_lifecycle_scans(T0 + day * DAY)
    assert store.enrolments("replenishment") == []


def test_one_mail_per_contact_names_every_product_that_is_due(store):
    store.go_live(T0 - 400 * DAY)
    update_flows(store.site, {"flows": {"vip": {"enabled": False}}})
    _repeat_buyers(store, 5, [BEANS, FILTERS])
    assert run_lifecycle_scans(T0)["replenishment"] == 5
    assert run_lifecycle_scans(T0 + HOUR)["replenishment"] == 0  # nobody is reminded twice
    store.tick(T0 + HOUR, lifecycle=False)
    mails = store.messages("replenishment")
    assert len(mails) == 5 and len({m.to_email for m in mails}) == 5
    [subject] = {m.subject for m in mails}
    assert subject in ("Time to restock Beans and 1 more?", "Time to restock Filters and 1 more?")
    assert all("Beans" in m.body.text and "Filters" in m.body.text for m in mails)


def test_a_product_due_later_gets_its_own_reminder_once(store):
    store.go_live(T0 - 400 * DAY)
    update_flows(store.site, {"flows": {"replenishment": {"replenish_days": {"9": 30, "11": 60}}}})
    store.send([_order("a", T0 - 30 * DAY, "ann@example.com", [BEANS, FILTERS])], T0)
    assert (
        run_lifecycle_scans(T0)["replenishment"] == 1
    )  # beans due (day 25.5); filters not before day 51
    assert run_lifecycle_scans(T0 + 22 * DAY)["replenishment"] == 1  # filters
    assert run_lifecycle_scans(T0 + 23 * DAY)["replenishment"] == 0
    named = [sorted(e.context["product_ids"]) for e in store.enrolments("replenishment")]
    assert sorted(named) == [["11"], ["9"]]


def test_the_owner_marks_categories_or_products_never_or_consumable(client, store):
    store.go_live(T0 - 400 * DAY)
    _repeat_buyers(store, 5, [BEANS, GRINDER])  # five people who happen to buy a grinder monthly
    url = f"/v1/sites/{store.site.public_id}/flows/replenishment"
    answer = client.put(
        url, json={"never": {"categories": ["kitchen"]}}, headers=bearer(store.new_site)
    )
    assert answer.status_code == 200 and answer.json["never"] == {"categories": ["kitchen"]}
    run_lifecycle_scans(T0)
    assert {tuple(e.context["product_ids"]) for e in store.enrolments("replenishment")} == {("9",)}

    answer = client.put(
        url, json={"never": None, "consumable": {"products": [20]}}, headers=bearer(store.new_site)
    )
    assert answer.status_code == 200 and answer.json["consumable"] == {"products": ["20"]}
    run_lifecycle_scans(
        T0 + DAY
    )  # only the grinder is consumable now; the beans were named already
    named = Counter(tuple(e.context["product_ids"]) for e in store.enrolments("replenishment"))
    assert named == {("9",): 5, ("20",): 5}


def test_the_marks_are_checked_on_save(client, store):
    url = f"/v1/sites/{store.site.public_id}/flows/replenishment"
    bad = client.put(url, json={"never": {"products": "20"}}, headers=bearer(store.new_site))
    assert bad.status_code == 422 and "never" in bad.json["fields"]
    unknown = client.put(url, json={"never": {"brands": ["x"]}}, headers=bearer(store.new_site))
    assert unknown.status_code == 422


def test_an_order_of_any_named_product_ends_the_reminder(store):
    store.go_live(T0 - 400 * DAY)
    update_flows(store.site, {"flows": {"replenishment": {"replenish_days": {"9": 30, "11": 30}}}})
    store.send([_order("a", T0 - 28 * DAY, "ann@example.com", [BEANS, FILTERS])], T0)
    run_lifecycle_scans(T0)
    store.send([_order("b", T0 + HOUR, "ann@example.com", [FILTERS])], T0 + HOUR)
    assert [e.exit_reason for e in store.enrolments("replenishment")] == ["order"]
