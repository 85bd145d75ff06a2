"""Default copy says only what the configuration makes true; a step that needs a coupon or a reward
waits for one; every mail's footer carries the store's postal address (CAN-SPAM)."""

from __future__ import annotations

from datetime import timedelta

from companion.email.rendering import render_email
from companion.flows.config import describe, save_changes, update_flows
from companion.models import Contact
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SHOP = {
    "shop": {"name": "Shop", "url": "https://shop.example/"},
    "contact": {"first_name": "Ann"},
    "currency": "EUR",
    "products": [],
}


def _untracked(url):
    return url


def _vip(**extras):
    mail = render_email("vip", 1, {**SHOP, **extras}, _untracked)
    return f"{mail.subject}\n{mail.text}".lower()


def test_a_vip_mail_promises_only_what_is_configured():
    nothing = _vip()
    assert "early access" not in nothing and "reward" not in nothing
    reward = _vip(reward={"title": "Free shipping", "code": "VIPSHIP"})
    assert "free shipping" in reward and "vipship" in reward and "early access" not in reward
    early = _vip(early_access_url="https://shop.example/new")
    assert "early access" in early and "reward" not in early and "https://shop.example/new" in early


def test_a_win_back_gift_is_only_offered_with_a_coupon():
    without = render_email("win_back", 2, SHOP, _untracked)
    assert "gift" not in f"{without.subject}\n{without.text}".lower()
    coupon = render_email(
        "win_back", 2, {**SHOP, "coupon": {"code": "BACK10", "description": "10% off"}}, _untracked
    )
    assert "gift" in coupon.subject.lower() and "BACK10" in coupon.text


def test_replenishment_does_not_promise_a_one_click_reorder_it_cannot_do():
    mail = render_email(
        "replenishment",
        1,
        {
            **SHOP,
            "product": {"name": "Beans", "price": "12.50", "url": "https://shop.example/beans"},
            "reorder_url": "https://shop.example/beans",
        },
        _untracked,
    )
    assert "one click" not in mail.text.lower() and "reorder now" not in mail.text.lower()


def test_steps_that_need_a_coupon_or_a_reward_are_off_until_one_is_set(site):
    steps = {key: describe(site.site, key)["steps"] for key in ("win_back", "vip")}
    assert [(s["enabled"], s["active"], s["needs"]) for s in steps["win_back"]] == [
        (True, True, []),
        (True, False, ["coupon"]),
    ]
    assert [(s["active"], s["needs"]) for s in steps["vip"]] == [
        (False, ["reward", "early_access_url"])
    ]
    save_changes(site.site, "win_back", {"coupon": {"code": "BACK10", "description": None}})
    save_changes(site.site, "vip", {"early_access_url": "https://shop.example/new"})
    assert describe(site.site, "win_back")["steps"][1]["active"] is True
    assert describe(site.site, "vip")["steps"][0]["active"] is True


def test_a_vip_without_reward_or_early_access_gets_no_mail_until_one_is_set(store):
    store.go_live(
        T0 - DAY
    )  # the VIP flow runs already: Fay is a new VIP, not the first start's backlog
    store.send(
        [f.event("customer.updated", {}, email="fay@example.com", first_name="Fay", at=iso(T0))], T0
    )
    Contact.update(stage="vip").execute()
    store.tick(T0 + HOUR)
    assert store.messages("vip") == []
    [step] = store.steps("vip")
    assert step.status == "skipped"


def test_win_back_sends_its_second_step_only_with_a_coupon(store):
    store.go_live(T0 - 400 * DAY)  # the flow ran before these customers lapsed
    old = T0 - 200 * DAY
    store.send(
        [f.order(1, modified=iso(old), created=iso(old), paid=iso(old), email="eve@example.com")],
        T0,
    )
    store.run(T0, T0 + 8 * DAY, every=12 * HOUR)
    assert [m.step for m in store.messages("win_back")] == [1]
    update_flows(store.site, {"flows": {"win_back": {"coupon": {"code": "BACK10"}}}})
    store.send(
        [f.order(2, modified=iso(old), created=iso(old), paid=iso(old), email="gus@example.com")],
        T0 + 9 * DAY,
    )
    store.run(T0 + 9 * DAY, T0 + 17 * DAY, every=12 * HOUR)
    assert sorted((m.to_email, m.step) for m in store.messages("win_back")) == [
        ("eve@example.com", 1),
        ("gus@example.com", 1),
        ("gus@example.com", 2),
    ]


def test_the_footer_carries_the_stores_postal_address(client, site, store):
    answer = client.put(
        f"/v1/sites/{site.site.public_id}/flows",
        headers=bearer(site),
        json={"settings": {"postal_address": "1 Harbour Street, Bristol BS1 4QA, United Kingdom"}},
    )
    assert answer.status_code == 200, answer.json
    assert (
        answer.json["settings"]["postal_address"]
        == "1 Harbour Street, Bristol BS1 4QA, United Kingdom"
    )
    store.send(
        [
            f.cart("c1", at=iso(T0)),
            f.order(1, modified=iso(T0), created=iso(T0), paid=iso(T0), email="cleo@example.com"),
        ],
        T0,
    )
    store.tick(T0 + HOUR)
    mails = store.messages()
    assert {m.flow_key for m in mails} >= {"abandoned_cart", "post_purchase"}
    for mail in mails:
        assert "1 Harbour Street, Bristol BS1 4QA, United Kingdom" in mail.body.text
        assert "1 Harbour Street, Bristol BS1 4QA, United Kingdom" in mail.body.html
