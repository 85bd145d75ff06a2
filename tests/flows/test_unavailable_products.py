"""Mails never offer what the shop cannot sell now: a product out of stock, not published, or with
a managed stock of 0 or less is in no product list (recommendations, cross-sell, win-back, VIP,
browse abandonment, replenishment), and is back once restocked. A replenishment reminder whose
products are all unavailable waits for them within its window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from companion.flows.availability import is_sellable
from companion.flows.config import update_flows
from companion.flows.lifecycle import run_lifecycle_scans
from companion.flows.preview import render_step
from companion.models import Contact
from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
CATALOGUE = {7: ("Mug", "29.90"), 8: ("Saucer", "9.90"), 9: ("Beans", "12.50")}


def _product(pid, at, status="instock", stock=5):
    name, price = CATALOGUE[pid]
    data = {
        "id": pid,
        "name": name,
        "price": price,
        "url": f"https://shop.example/p/{pid}",
        "status": status,
        "stock_quantity": stock,
    }
    return f.event("product.updated", data, email=None, at=iso(at))


def _line(pid):
    name, price = CATALOGUE[pid]
    return {"product_id": pid, "name": name, "quantity": 1, "price": price, "total": price}


def _order(key, at, email, pids):
    lines = [_line(p) for p in pids]
    return f.order(key, modified=iso(at), created=iso(at), paid=iso(at), items=lines, email=email)


def _view(pid, at, email="ann@example.com"):
    name, price = CATALOGUE[pid]
    data = {"product_id": pid, "name": name, "price": price, "url": f"https://shop.example/p/{pid}"}
    return f.event("product.viewed", data, email=email, at=iso(at), session="s-ann-1")


PRODUCT_MAILS = (
    ("cross_sell", 1),
    ("post_purchase", 3),
    ("win_back", 1),
    ("vip", 1),
    ("browse_abandonment", 1),
)


def _shown(store, settings, contact, now):
    """The text of every product mail Ann would get now."""
    return {
        (key, step): render_step(store.site, key, step, contact, now, settings.public_url).text
        for key, step in PRODUCT_MAILS
    }


@pytest.mark.parametrize(
    ("status", "stock"),
    [("outofstock", 0), ("instock", 0), ("draft", 4)],  # every rule: test_what_counts_as_sellable
)
def test_a_product_that_cannot_be_bought_is_in_no_product_mail_and_is_back_once_restocked(
    store, settings, status, stock
):
    earlier = T0 - 10 * DAY
    store.send(
        [_product(p, earlier - HOUR) for p in CATALOGUE]
        + [
            _order("e1", earlier, "eve@example.com", [7, 8]),  # the saucer goes with the mug
            _order("e2", earlier, "bob@example.com", [9]),
        ],
        earlier,
    )
    store.send([_order("a1", T0, "ann@example.com", [7]), _view(8, T0), _view(9, T0)], T0)
    ann = Contact.get(Contact.site == store.site.id, Contact.email == "ann@example.com")

    store.send([_product(8, T0 + HOUR, status, stock)], T0 + HOUR)
    out = _shown(store, settings, ann, T0 + 2 * HOUR)
    assert {k: "Saucer" in text for k, text in out.items()} == dict.fromkeys(out, False)
    assert all("Beans" in text for text in out.values())  # something else is offered instead

    store.send([_product(8, T0 + 3 * HOUR, "instock", 3)], T0 + 3 * HOUR)
    back = _shown(store, settings, ann, T0 + 4 * HOUR)
    assert {k: "Saucer" in text for k, text in back.items()} == dict.fromkeys(back, True)


def test_the_cross_sell_mail_sent_after_the_product_sold_out_does_not_offer_it(store):
    store.send(
        [_product(p, T0 - 11 * DAY) for p in CATALOGUE]
        + [
            _order("e1", T0 - 10 * DAY, "eve@example.com", [7, 8]),
            _order("e2", T0 - 10 * DAY, "bob@example.com", [9]),
        ],
        T0 - 10 * DAY,
    )
    store.send([_order("a1", T0, "ann@example.com", [7])], T0)
    store.send([_product(8, T0 + DAY, "outofstock", 0)], T0 + DAY)
    store.run(T0, T0 + 6 * DAY, every=6 * HOUR)
    [mail] = [m for m in store.messages("cross_sell") if m.to_email == "ann@example.com"]
    assert "https://shop.example/p/8" not in mail.links and "Saucer" not in mail.body.text
    assert "https://shop.example/p/9" in mail.links


# --- replenishment --------------------------------------------------------------------------------


def _replenishing(store, days=30):
    store.go_live(T0 - 400 * DAY)
    update_flows(
        store.site,
        {
            "flows": {
                "vip": {"enabled": False},
                "win_back": {"enabled": False},
                "replenishment": {"replenish_days": {"9": days}},
            }
        },
    )
    store.send([_product(p, T0 - 40 * DAY) for p in CATALOGUE], T0 - 40 * DAY)
    store.send([_order("a", T0 - 28 * DAY, "ann@example.com", [9])], T0)  # a history import


def test_beans_out_of_stock_are_not_reminded_and_are_once_back_in_the_window(store):
    _replenishing(store)
    store.send([_product(9, T0 - DAY, "outofstock", 0)], T0 - DAY)
    store.tick(T0)
    store.tick(T0 + HOUR)
    assert store.enrolments("replenishment") == [] and store.messages("replenishment") == []

    store.send([_product(9, T0 + 2 * DAY, "instock", 12)], T0 + 2 * DAY)
    store.tick(T0 + 2 * DAY + HOUR)
    [mail] = store.messages("replenishment")
    assert mail.subject == "Time to restock Beans?"


def test_a_reminder_whose_products_sold_out_after_the_scan_waits_until_they_are_back(store):
    _replenishing(store)
    assert run_lifecycle_scans(T0)["replenishment"] == 1
    store.send([_product(9, T0 + HOUR / 6, "outofstock", 0)], T0 + HOUR / 6)
    store.run(T0 + HOUR, T0 + 3 * DAY, every=3 * HOUR, lifecycle=False)
    assert store.messages("replenishment") == []
    [step] = store.steps("replenishment")
    assert (step.status, step.outcome) == ("pending", "deferred: out of stock")

    store.send([_product(9, T0 + 3 * DAY + HOUR, "instock", 12)], T0 + 3 * DAY + HOUR)
    store.run(T0 + 3 * DAY + HOUR, T0 + 4 * DAY, every=3 * HOUR, lifecycle=False)
    [mail] = store.messages("replenishment")
    assert mail.subject == "Time to restock Beans?"


def test_a_reminder_still_unavailable_when_its_window_closes_ends_unsent(store):
    _replenishing(store)  # bought 28 days before T0, interval 30: the window closes 45 days after
    run_lifecycle_scans(T0)
    store.send([_product(9, T0 + HOUR / 6, "outofstock", 0)], T0 + HOUR / 6)
    store.run(T0 + HOUR, T0 + 19 * DAY, every=DAY, lifecycle=False)
    assert store.messages("replenishment") == []
    [enrolment] = store.enrolments("replenishment")
    assert (enrolment.status, enrolment.exit_reason) == ("exited", "out of stock")
    [step] = store.steps("replenishment")
    assert (step.status, step.outcome) == ("cancelled", "exit: out of stock")


def test_a_reminder_names_only_the_products_that_can_be_bought(store):
    _replenishing(store)
    update_flows(store.site, {"flows": {"replenishment": {"replenish_days": {"9": 30, "8": 30}}}})
    store.send([_order("b", T0 - 28 * DAY, "ann@example.com", [8, 9])], T0)
    assert run_lifecycle_scans(T0)["replenishment"] == 1
    store.send([_product(8, T0 + HOUR / 6, "outofstock", 0)], T0 + HOUR / 6)
    store.tick(T0 + HOUR, lifecycle=False)
    [mail] = store.messages("replenishment")
    assert mail.subject == "Time to restock Beans?" and "Saucer" not in mail.body.text


# --- the rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stock", "sellable"),
    [
        (None, None, True),  # a catalogue that never said: offered as before
        ("publish", None, True),  # WooCommerce webhooks of an older service, REST post status
        ("instock", 3, True),
        ("instock", None, True),  # stock not managed
        ("onbackorder", None, True),
        ("instock", 0, False),
        ("onbackorder", -2, False),  # backordered: the shopper would wait; no mail pushes it
        ("outofstock", None, False),
        ("outofstock", 5, False),
        ("draft", None, False),
        ("private", 3, False),
        ("pending", None, False),
        ("trash", None, False),
    ],
)
def test_what_counts_as_sellable(status, stock, sellable):
    assert is_sellable(status, stock) is sellable
