"""Subject A/B tests per step: the split is even and never flips, the report's numbers per variant
are exact, and a winner is called only past the rule's edges (docs/flows.md, "Subject A/B
tests")."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from companion.core.db import database
from companion.flows import abtest
from companion.flows.config import InvalidSettings, update_flows
from companion.flows.reports import flow_report, message_detail
from companion.flows.scans import run_minute_scans
from companion.flows.sending import claim_steps, send_steps
from companion.flows.tick import due_step_ids, new_run, run_inline
from companion.flows.tracking import click_target
from companion.ingest.carts import mark_abandoned
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SUBJECT_A, SUBJECT_B = "Your cart is waiting", "{{ contact.first_name }}, still thinking?"


def _ab_on(store, step: int = 1) -> None:
    update_flows(
        store.site,
        {
            "flows": {
                "abandoned_cart": {
                    "steps": [{"step": step, "subject": SUBJECT_A, "subject_b": SUBJECT_B}]
                }
            }
        },
    )


def _due_carts(store, count):
    store.send(
        [f.cart(f"c{i}", at=iso(T0), email=f"shopper{i}@example.com") for i in range(count)], T0
    )
    mark_abandoned(T0 + HOUR)
    run_minute_scans(T0 + HOUR)
    return due_step_ids(T0 + HOUR)


def _b_subject(message) -> bool:
    return message.subject.endswith(", still thinking?")


# --- the split ------------------------------------------------------------------------------------


def test_the_split_is_even_over_many_enrolments_and_each_step_is_split_on_its_own():
    for step in (1, 2, 3):
        shares = Counter(abtest.variant_for(enrolment, step) for enrolment in range(1, 20_001))
        assert 0.49 <= shares["B"] / 20_000 <= 0.51, shares
    # the steps of one enrolment are not all A or all B: step 2 is a fresh coin
    same = sum(abtest.variant_for(e, 1) == abtest.variant_for(e, 2) for e in range(1, 20_001))
    assert 0.48 <= same / 20_000 <= 0.52


def test_the_same_enrolment_and_step_always_gets_the_same_variant():
    assert [abtest.variant_for(4711, 2) for _ in range(50)] == [abtest.variant_for(4711, 2)] * 50


def test_every_message_records_its_variant_and_carries_that_subject(store):
    _ab_on(store)
    _due_carts(store, 40)
    store.tick(T0 + HOUR)
    messages = store.messages("abandoned_cart")
    assert len(messages) == 40
    for m in messages:
        assert m.variant == abtest.variant_for(m.enrolment_id, 1)
        assert _b_subject(m) == (m.variant == "B")
    assert set(Counter(m.variant for m in messages)) == {"A", "B"}


def test_a_step_without_subject_b_records_no_variant(store):
    _due_carts(store, 3)
    store.tick(T0 + HOUR)
    assert {m.variant for m in store.messages("abandoned_cart")} == {None}


def test_two_workers_on_the_same_steps_give_each_step_its_one_variant(store, sendgrid, settings):
    _ab_on(store)
    ids = _due_carts(store, 16)
    start = threading.Barrier(2)

    def worker():
        database.connect(reuse_if_open=True)
        try:
            start.wait()
            send_steps(ids, new_run(settings, T0 + HOUR, sendgrid))
        finally:
            database.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = store.messages("abandoned_cart")
    assert len(messages) == 16 and {m.status for m in messages} == {"sent"}
    assert all(m.variant == abtest.variant_for(m.enrolment_id, 1) for m in messages)
    assert all(_b_subject(m) == (m.variant == "B") for m in messages)


def test_a_step_retaken_after_its_worker_died_keeps_its_variant(store, settings):
    _ab_on(store)
    ids = _due_carts(store, 16)
    claim_steps(ids, T0 + HOUR)  # ... and the worker dies; the claims go stale
    run_inline(settings, T0 + HOUR + timedelta(minutes=11), None)
    messages = store.messages("abandoned_cart")
    assert len(messages) == 16
    assert all(m.variant == abtest.variant_for(m.enrolment_id, 1) for m in messages)
    assert all(_b_subject(m) == (m.variant == "B") for m in messages)


# --- subject B is checked like subject -----------------------------------------------------------


@pytest.mark.parametrize(
    "subject_b, why",
    [
        ("Hi {{ contact.frist_name }}", "frist_name"),
        ("{{ cart.items|length }} items", "cart['items']"),
        ("{{ order.total }} left", "order"),
        ("{% if %}", "template error"),
    ],
)
def test_a_subject_b_that_cannot_render_is_refused_naming_the_field(store, subject_b, why):
    with pytest.raises(InvalidSettings) as refused:
        update_flows(
            store.site,
            {"flows": {"abandoned_cart": {"steps": [{"step": 2, "subject_b": subject_b}]}}},
        )
    [message] = refused.value.fields["flows"]["abandoned_cart"]["steps"]["0"]["subject_b"]
    assert why in message


def test_the_api_refuses_a_bad_subject_b_with_422_and_saves_nothing(client, store, site):
    headers = bearer(site)
    url = f"/v1/sites/{store.site.public_id}/flows/abandoned_cart"
    answer = client.put(
        url,
        json={"steps": [{"step": 1, "subject_b": "Hi {{ contact.frist_name }}"}]},
        headers=headers,
    )
    assert answer.status_code == 422
    assert "frist_name" in answer.get_json()["fields"]["steps"]["0"]["subject_b"][0]
    assert client.get(url, headers=headers).get_json()["steps"][0]["subject_b"] is None
    ok = client.put(url, json={"steps": [{"step": 1, "subject_b": SUBJECT_B}]}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["steps"][0]["subject_b"] == SUBJECT_B


def test_preview_shows_either_variant_and_b_only_where_a_test_runs(client, store, site):
    headers = bearer(site)
    url = f"/v1/sites/{store.site.public_id}/flows/abandoned_cart/preview"
    store.send(
        [
            f.event("customer.updated", {}, email="ann@example.com", first_name="Ann"),
            f.cart("c1", at=iso(T0), email="ann@example.com"),
        ],
        T0,
    )
    no_test = client.post(url, json={"step": 1, "variant": "B"}, headers=headers)
    assert no_test.status_code == 422 and "variant" in no_test.get_json()["fields"]
    _ab_on(store)
    a = client.post(url, json={"step": 1, "email": "ann@example.com"}, headers=headers)
    b = client.post(
        url, json={"step": 1, "email": "ann@example.com", "variant": "B"}, headers=headers
    )
    assert a.get_json()["subject"] == SUBJECT_A
    assert b.get_json()["subject"] == "Ann, still thinking?"

    def body(answer):  # the cart's restore link is signed at the second it is made
        return re.sub(r"https?://\S+", "<link>", answer.get_json()["text"])

    assert body(a) == body(b)


# --- the report -----------------------------------------------------------------------------------


def _click(settings, message, at) -> None:
    """The contact follows the first link at `at` (tracking's own code, at simulated time)."""
    html = message_detail(message.site_id, message.uuid)["html"]
    token = re.findall(r"http://companion.test/t/c/([\w\-.]+)", html)[0]
    assert click_target(settings.secret_key.encode(), token, at) is not None


def test_the_report_counts_sends_clicking_contacts_orders_and_revenue_per_variant(
    settings, store, sendgrid
):
    _ab_on(store)
    _due_carts(store, 24)
    store.tick(T0 + HOUR, sendgrid)
    messages = store.messages("abandoned_cart")
    a = [m for m in messages if m.variant == "A"]
    b = [m for m in messages if m.variant == "B"]
    assert len(a) >= 4 and len(b) >= 4
    for m in a[:2] + b[:3]:
        _click(settings, m, T0 + 90 * timedelta(minutes=1))
    _click(settings, b[0], T0 + 100 * timedelta(minutes=1))  # a second click counts once
    paid = T0 + 2 * HOUR
    orders = [(a[0], "40.00"), (b[0], "25.00"), (b[1], "30.00")]
    store.send(
        [
            f.order(
                500 + i,
                total=total,
                email=m.to_email,
                created=iso(paid),
                modified=iso(paid),
                paid=iso(paid),
            )
            for i, (m, total) in enumerate(orders)
        ]
        + [f.refund(502, "r-1", "5.00", at=iso(paid + HOUR))],
        paid + HOUR,
    )
    report = flow_report(store.site.id, "abandoned_cart")
    test = report["steps"][0]["ab_test"]
    figures = {v["variant"]: v for v in test["variants"]}
    assert figures["A"] == {
        "variant": "A",
        "sent": len(a),
        "clicked": 2,
        "click_rate": 2 / len(a),
        "orders": 1,
        "revenue": Decimal("40.00"),
        "revenue_per_recipient": (Decimal("40.00") / len(a)).quantize(Decimal("0.01")),
    }
    assert figures["B"] == {
        "variant": "B",
        "sent": len(b),
        "clicked": 3,
        "click_rate": 3 / len(b),
        "orders": 2,
        "revenue": Decimal("50.00"),
        "revenue_per_recipient": (Decimal("50.00") / len(b)).quantize(Decimal("0.01")),
    }
    assert test["winner"] is None and test["reason"].startswith("Too early")
    assert report["steps"][1]["ab_test"] is None  # step 2 tests nothing


def test_the_api_report_shows_the_test_per_step(client, store, site, sendgrid):
    _ab_on(store)
    _due_carts(store, 6)
    store.tick(T0 + HOUR, sendgrid)
    headers = bearer(site)
    answer = client.get(
        f"/v1/sites/{store.site.public_id}/flows/abandoned_cart/report", headers=headers
    ).get_json()
    test = answer["steps"][0]["ab_test"]
    assert [v["variant"] for v in test["variants"]] == ["A", "B"]
    assert sum(v["sent"] for v in test["variants"]) == 6
    assert test["variants"][0]["revenue"] == "0.00" and "ab_test" not in answer


# --- the winner rule at its edges -----------------------------------------------------------------


def _v(sent, clicked, orders=0, revenue="0"):
    return {"sent": sent, "clicked": clicked, "orders": orders, "revenue": Decimal(revenue)}


def test_no_winner_is_called_before_each_subject_has_its_minimum_sends():
    answer = abtest.verdict(_v(99, 0), _v(100, 50))
    assert answer["winner"] is None and answer["leader"] == "B"
    assert "needs 100 sends (A has 99, B has 100)" in answer["reason"]


def test_a_click_rate_difference_just_past_95_percent_wins_and_just_short_does_not():
    past = abtest.verdict(_v(100, 10), _v(100, 20))  # z = 1.98
    assert (past["winner"], past["decided_by"], past["z"]) == ("B", "click rate", 1.98)
    short = abtest.verdict(_v(100, 10), _v(100, 19))  # z = 1.81
    assert short["winner"] is None and short["leader"] == "B" and short["z"] == 1.81
    assert abtest.verdict(_v(100, 20), _v(100, 10))["winner"] == "A"


def test_level_click_rates_fall_to_revenue_per_recipient_only_when_orders_differ_significantly():
    by_revenue = abtest.verdict(_v(100, 10, 0, "0"), _v(100, 10, 6, "300"))  # orders z = 2.49
    assert (by_revenue["winner"], by_revenue["decided_by"]) == ("B", "revenue per recipient")
    noise = abtest.verdict(_v(100, 10, 1, "50"), _v(100, 10, 4, "300"))  # orders z = 1.74
    assert noise["winner"] is None and noise["leader"] == "B"
    # more orders, but less money per recipient: the two measures disagree, nobody wins
    split = abtest.verdict(_v(100, 10, 0, "0"), _v(100, 10, 6, "0"))
    assert split["winner"] is None


def test_identical_variants_have_no_leader_and_no_winner():
    answer = abtest.verdict(_v(500, 25, 3, "90"), _v(500, 25, 3, "90"))
    assert answer["leader"] is None and answer["winner"] is None and answer["z"] == 0.0


def test_keeping_b_makes_it_the_only_subject_and_keeping_a_drops_b():
    assert abtest.keep_changes("A {{ shop.name }}", "B", "B") == {"subject": "B", "subject_b": None}
    assert abtest.keep_changes(None, "B", "A") == {"subject": None, "subject_b": None}
    with pytest.raises(ValueError):
        abtest.keep_changes("A", "B", "C")


def test_a_broadcast_renders_one_body_per_variant_and_each_recipient_gets_their_subject(store):
    """VIP mail is one shared body with substitutions (docs/flows.md, "Broadcasts"): a test there
    must not give everyone the first recipient's subject."""
    store.go_live(T0 - 200 * DAY)
    update_flows(
        store.site,
        {
            "flows": {
                "vip": {
                    "reward": {"title": "Free shipping"},
                    "steps": [{"step": 1, "subject": "A: thanks", "subject_b": "B: for you"}],
                }
            }
        },
    )
    item = [{"product_id": 7, "name": "Mug", "quantity": 1, "price": "9.00", "total": "9.00"}]
    store.send(
        [
            f.order(
                f"v{n}-{k}",
                total="9.00",
                items=item,
                email=f"vip{n}@example.com",
                created=iso(T0 - (5 + k) * DAY),
                modified=iso(T0 - (5 + k) * DAY),
                paid=iso(T0 - (5 + k) * DAY),
            )
            for n in range(12)
            for k in range(5)
        ],
        T0 - 5 * DAY,
    )
    store.tick(T0)
    store.tick(T0 + HOUR)
    messages = store.messages("vip")
    assert len(messages) == 12
    assert all(
        m.subject == f"{m.variant}: {'thanks' if m.variant == 'A' else 'for you'}" for m in messages
    )
    assert all(m.variant == abtest.variant_for(m.enrolment_id, 1) for m in messages)
    assert {m.variant for m in messages} == {"A", "B"}
