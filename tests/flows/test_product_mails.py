"""Mails whose point is a product list (cross-sell, post-purchase step 3, browse abandonment):
they show products bought together, else the best sellers, and are skipped when nothing fits."""

from __future__ import annotations

from datetime import timedelta

from companion.flows.reports import flow_report
from companion.models import MessageBody
from tests import factories as f
from tests.flows.store import T0, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
MUG = {"product_id": 7, "name": "Mug", "quantity": 1, "price": "29.90", "total": "29.90"}
SAUCER = {"product_id": 8, "name": "Saucer", "quantity": 1, "price": "9.90", "total": "9.90"}


def _products():
    return [
        f.event(
            "product.updated",
            {"id": pid, "name": name, "price": price, "url": f"https://shop.example/p/{pid}"},
            email=None,
        )
        for pid, name, price in ((7, "Mug", "29.90"), (8, "Saucer", "9.90"), (9, "Beans", "12.50"))
    ]


def _order(number, at, items, email):
    return f.order(
        number,
        status="completed",  # post-purchase step 3 follows the review request, which waits for it
        modified=iso(at),
        created=iso(at),
        paid=iso(at),
        completed_at=iso(at),
        items=items,
        email=email,
    )


def test_the_cross_sell_mail_and_post_purchase_step_3_show_what_others_bought_with_the_order(store):
    earlier = (
        T0 - 100 * DAY
    )  # older than the best sellers' 90 days: only "bought together" finds it
    store.send(_products() + [_order(1, earlier, [MUG, SAUCER], "eve@example.com")], earlier)
    store.send([_order(2, T0, [MUG], "ann@example.com")], T0)
    store.run(T0, T0 + 22 * DAY, every=6 * HOUR)
    mails = {(m.flow_key, m.step): m for m in store.messages() if m.to_email == "ann@example.com"}
    assert "https://shop.example/p/8" in mails["cross_sell", 1].links
    assert "https://shop.example/p/8" in mails["post_purchase", 3].links


def test_with_nothing_bought_together_the_best_sellers_fill_the_cross_sell_mail(store):
    store.send(
        _products()
        + [
            _order(
                1, T0 - 10 * DAY, [{**SAUCER, "product_id": 9, "name": "Beans"}], "eve@example.com"
            )
        ],
        T0 - 10 * DAY,
    )
    store.send([_order(2, T0, [MUG], "ann@example.com")], T0)
    store.run(T0, T0 + 6 * DAY, every=6 * HOUR)
    [mail] = [m for m in store.messages("cross_sell") if m.to_email == "ann@example.com"]
    assert "https://shop.example/p/9" in mail.links


def test_a_product_mail_with_no_product_to_show_is_skipped_and_the_report_says_why(store):
    store.send([_order(1, T0, [MUG], "ann@example.com")], T0)  # a shop whose catalogue we never saw
    store.run(T0, T0 + 22 * DAY, every=6 * HOUR)
    assert [(m.flow_key, m.step) for m in store.messages()] == [
        ("post_purchase", 1),
        ("post_purchase", 2),
    ]
    assert [(s.step, s.status, s.outcome) for s in store.steps("post_purchase")] == [
        (1, "done", "outbox"),
        (2, "done", "outbox"),
        (3, "skipped", "no products to show"),
    ]
    assert [(s.status, s.outcome) for s in store.steps("cross_sell")] == [
        ("skipped", "no products to show")
    ]
    assert {
        e.status for e in store.enrolments("post_purchase") + store.enrolments("cross_sell")
    } == {"completed"}
    report = flow_report(store.site.id, "cross_sell")
    assert (report["sent"] + report["outbox"], report["skipped"]) == (0, 1)
    assert report["steps"][0]["skip_reasons"] == {"no products to show": 1}
    step_3 = flow_report(store.site.id, "post_purchase")["steps"][2]
    assert (step_3["outbox"], step_3["skipped"], step_3["skip_reasons"]) == (
        0,
        1,
        {"no products to show": 1},
    )


def _copy(mail):
    return f"{mail.subject}\n{MessageBody.get_by_id(mail.body_id).text}".lower()


def test_best_sellers_are_not_passed_off_as_what_customers_bought_with_the_order(store):
    """With nothing bought together, the cross-sell mail and post-purchase step 3 show best sellers
    and say so: "customers who bought the same often add these" was false there."""
    beans = {**SAUCER, "product_id": 9, "name": "Beans"}
    store.send(_products() + [_order(1, T0 - 10 * DAY, [beans], "eve@example.com")], T0 - 10 * DAY)
    store.send([_order(2, T0, [MUG], "ann@example.com")], T0)
    store.run(T0, T0 + 22 * DAY, every=6 * HOUR)
    mails = {(m.flow_key, m.step): m for m in store.messages() if m.to_email == "ann@example.com"}
    for key in (("cross_sell", 1), ("post_purchase", 3)):
        assert "https://shop.example/p/9" in mails[key].links
        copy = _copy(mails[key])
        assert "bought the same" not in copy and "bought what you bought" not in copy, copy
        assert "picked to go with" not in copy and "best sellers" in copy, copy


def test_products_bought_together_are_introduced_as_such(store):
    store.send(
        _products() + [_order(1, T0 - 100 * DAY, [MUG, SAUCER], "eve@example.com")],
        T0 - 100 * DAY,
    )
    store.send([_order(2, T0, [MUG], "ann@example.com")], T0)
    store.run(T0, T0 + 22 * DAY, every=6 * HOUR)
    mails = {(m.flow_key, m.step): m for m in store.messages() if m.to_email == "ann@example.com"}
    assert "bought the same often add these" in _copy(mails["cross_sell", 1])
    assert "bought what you bought also picked these" in _copy(mails["post_purchase", 3])
