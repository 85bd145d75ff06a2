"""Single-use coupons (issue 15, "Coupons that work"): a code of its own per contact, made in the
store through the plugin's signed route before the mail goes, redeemed by the order that uses it,
counted in the flow report."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from companion.email.sendgrid import EmailEvent
from companion.flows import sending
from companion.flows.config import describe, update_flows
from companion.flows.coupons import ALPHABET, CODE_LENGTH
from companion.flows.reports import flow_report
from companion.flows.settlement import apply_provider_events
from companion.models import Contact, IssuedCoupon, Message, MessageBody
from tests import factories as f
from tests.dashboard.session import sign_in
from tests.flows.coupon_store import CouponStore
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
UNIQUE = {
    "kind": "unique",
    "discount_type": "percent",
    "amount": "10",
    "days_valid": 7,
    "minimum_amount": "30.00",
}
OLD = T0 - 200 * DAY


@pytest.fixture
def shop(coupon_shop: CouponStore) -> CouponStore:
    return coupon_shop


def _lapsed(store, *emails: str, at=T0) -> None:
    """Customers whose last order is 200 days old: win-back mails them at once, then a week on
    with its coupon (step 2)."""
    store.go_live(T0 - 400 * DAY)
    store.send(
        [
            f.order(f"old-{i}", modified=iso(OLD), created=iso(OLD), paid=iso(OLD), email=email)
            for i, email in enumerate(emails)
        ],
        at,
    )


def _text(message: Message) -> str:
    return MessageBody.get_by_id(message.body_id).text


def test_the_owner_sets_a_unique_coupon_and_bad_settings_get_field_messages(client, site):
    url = f"/v1/sites/{site.site.public_id}/flows/win_back"
    for bad, field, why in (
        ({"kind": "unique", "discount_type": "percent", "days_valid": 7}, "amount", "Required"),
        ({**UNIQUE, "amount": "150"}, "amount", "at most 100"),
        ({**UNIQUE, "discount_type": "free_shipping"}, "discount_type", "Must be one of"),
        ({**UNIQUE, "days_valid": 0}, "days_valid", "greater than or equal to 1"),
        ({**UNIQUE, "amount": 10.5}, "amount", "decimal string"),
        ({"kind": "static"}, "code", "needs its code"),
    ):
        answer = client.put(url, headers=bearer(site), json={"coupon": bad})
        assert answer.status_code == 422, bad
        assert why in str(answer.json["fields"]["coupon"][field]), answer.json
    answer = client.put(url, headers=bearer(site), json={"coupon": UNIQUE})
    assert answer.status_code == 200, answer.json
    shown = describe(site.site, "win_back")["coupon"]
    assert shown == {**UNIQUE, "individual_use": True, "prefix": "SC"}
    assert [s["active"] for s in describe(site.site, "win_back")["steps"]] == [True, True]
    # a static code replaces the template whole: no unique fields linger
    client.put(url, headers=bearer(site), json={"coupon": {"code": "BACK10"}})
    assert describe(site.site, "win_back")["coupon"] == {"kind": "static", "code": "BACK10"}


def test_each_contact_gets_a_code_of_their_own_made_in_the_store_before_the_mail(store, shop):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com", "bob@example.com")
    store.run(T0, T0 + 8 * DAY, every=12 * HOUR)
    mails = {m.to_email: m for m in store.messages("win_back") if m.step == 2}
    issued = {c.contact.email: c for c in IssuedCoupon.select()}
    assert sorted(mails) == sorted(issued) == ["ann@example.com", "bob@example.com"]
    for email, coupon in issued.items():
        prefix, body = coupon.code.split("-")
        assert prefix == "SC" and len(body) == CODE_LENGTH and set(body) <= set(ALPHABET)
        assert coupon.status == "created" and coupon.created_at <= mails[email].created_at
        made = shop.coupons[coupon.code.lower()]
        assert (made["email"], made["usage_limit"], made["usage_limit_per_user"]) == (email, 1, 1)
        assert (made["discount_type"], made["amount"], made["minimum_amount"]) == (
            "percent",
            "10.00",
            "30.00",
        )
        assert made["date_expires"] == int(coupon.expires_at.replace(tzinfo=UTC).timestamp())
        text = _text(mails[email])
        assert coupon.code in text
        # the default copy says what is configured: the discount, the minimum, the last day
        assert "10% off orders of €30.00 or more, valid until 4 December" in text, text
        assert "gift" in mails[email].subject.lower()
    assert issued["ann@example.com"].code != issued["bob@example.com"].code
    assert all(r["refusal"] == "" for r in shop.requests)
    # the first step carries no coupon and names none
    # (a code's shape, not the bare "SC-", which a signed link's base64 can hold by chance)
    code = re.compile(rf"\bSC-[{ALPHABET}]{{{CODE_LENGTH}}}\b")
    assert all(code.search(_text(m)) for m in mails.values())  # the pattern finds a real code
    first = [m for m in store.messages("win_back") if m.step == 1]
    assert first and not any(code.search(_text(m)) for m in first)


def test_a_store_that_does_not_answer_holds_the_mail_and_a_retry_asks_for_the_same_code(
    store, shop
):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com")
    store.run(T0, T0 + 6 * DAY, every=12 * HOUR)
    shop.mode = "lose_answer"  # the store makes the coupon, and its answer is lost
    store.run(T0 + 7 * DAY, T0 + 7 * DAY + 30 * 60 * timedelta(seconds=1), every=HOUR)
    assert [m.step for m in store.messages("win_back")] == [1]
    [step2] = [s for s in store.steps("win_back") if s.step == 2]
    assert step2.status == "pending" and "the store answered 504" in step2.outcome
    shop.mode = "ok"
    store.run(T0 + 7 * DAY + HOUR, T0 + 8 * DAY, every=HOUR)
    [coupon] = IssuedCoupon.select()
    assert [m.step for m in store.messages("win_back")] == [1, 2]
    assert list(shop.coupons) == [coupon.code.lower()]  # one coupon, asked for twice
    assert [r["data"]["code"] for r in shop.requests] == [coupon.code, coupon.code]
    assert coupon.attempts == 2 and coupon.code in _text(store.messages("win_back")[1])


def test_after_the_last_try_the_step_is_skipped_with_the_reason_in_the_report(store, shop):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com")
    shop.mode = "down"
    store.run(T0, T0 + 9 * DAY, every=HOUR)
    assert [m.step for m in store.messages("win_back")] == [1]
    assert len(shop.requests) == 6  # a try, then five more after 1 min, 5 min, 15 min, 1 h, 3 h
    report = flow_report(store.site.id, "win_back")
    assert report["steps"][1]["skip_reasons"] == {"no coupon: the store answered 503": 1}
    assert report["steps"][1]["coupons"]["issued"] == 0


def test_a_store_without_coupons_skips_the_step_at_once_with_that_reason(store, shop):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com")
    shop.mode = "not_supported"
    store.run(T0, T0 + 9 * DAY, every=12 * HOUR)
    assert len(shop.requests) == 1
    assert flow_report(store.site.id, "win_back")["skip_reasons"] == {
        "no coupon: not supported by this store": 1
    }


def test_a_request_signed_with_another_secret_is_refused_and_nothing_is_sent(store, shop):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    shop.key = b"not the site's key"
    _lapsed(store, "ann@example.com")
    store.run(T0, T0 + 9 * DAY, every=HOUR)
    assert {r["refusal"] for r in shop.requests} == {"bad signature"}
    assert [m.step for m in store.messages("win_back")] == [1] and not shop.coupons


def test_an_order_with_the_code_redeems_it_and_a_cancelled_one_does_not_count(store, shop):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com", "bob@example.com")
    store.run(T0, T0 + 8 * DAY, every=12 * HOUR)
    codes = {c.contact.email: c.code for c in IssuedCoupon.select()}
    at = T0 + 8 * DAY + HOUR
    redeemed = f.order(
        "w1",
        email="ann@example.com",
        total="53.82",
        discount_total="5.98",
        coupons=[codes["ann@example.com"].lower()],  # as WooCommerce reports it
        modified=iso(at),
        created=iso(at),
        paid=iso(at),
    )
    store.send([redeemed], at)
    report = flow_report(store.site.id, "win_back")
    assert report["steps"][1]["coupons"] == {
        "issued": 2,
        "redeemed": 1,
        "redemption_rate": 0.5,
        "discount": Decimal("5.98"),
        "revenue": Decimal("53.82"),
    }
    assert report["coupons"]["redeemed"] == 1
    ann = IssuedCoupon.get(IssuedCoupon.code == codes["ann@example.com"])
    assert ann.order_id is not None and ann.redeemed_at == at and ann.discount == Decimal("5.98")
    later = at + HOUR
    redeemed["data"].update(status="cancelled", modified_at=iso(later))
    store.send([{**redeemed, "id": "cancel-event"}], later)
    assert flow_report(store.site.id, "win_back")["steps"][1]["coupons"]["redeemed"] == 0


def test_the_flow_report_api_shows_coupon_figures(client, site, store, shop):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com")
    store.run(T0, T0 + 8 * DAY, every=12 * HOUR)
    answer = client.get(
        f"/v1/sites/{site.site.public_id}/flows/win_back/report", headers=bearer(site)
    )
    assert answer.status_code == 200
    assert answer.json["steps"][1]["coupons"] == {
        "issued": 1,
        "redeemed": 0,
        "redemption_rate": 0.0,
        "discount": "0.00",
        "revenue": "0.00",
    }


def test_the_dashboards_flow_page_shows_issued_and_redeemed_coupons(client, site, store, shop):
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com", "bob@example.com")
    store.run(T0, T0 + 8 * DAY, every=12 * HOUR)
    code = IssuedCoupon.get(IssuedCoupon.contact == Contact.get(email="ann@example.com").id).code
    at = T0 + 8 * DAY + HOUR
    store.send(
        [
            f.order(
                "w1",
                email="ann@example.com",
                total="53.82",
                discount_total="5.98",
                coupons=[code.lower()],
                modified=iso(at),
                created=iso(at),
                paid=iso(at),
            )
        ],
        at,
    )
    sign_in(client, site)
    html = client.get(
        f"/dashboard/{site.site.public_id}/flows?range=custom&from=2026-11-01&to=2026-12-31"
    ).get_data(as_text=True)
    panel = html[html.index('data-panel="coupons"') :]
    panel = panel[: panel.index("</section>")]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", panel[panel.index("Win-back") :])[:6]
    assert cells == ["2", "2", "1", "50.0%", "5.98", "53.82"], cells


def test_a_code_counts_as_issued_only_when_its_mail_goes(store, shop, monkeypatch):
    """A coupon the store made whose mail was never written (the render failed) or was dropped by
    SendGrid reached nobody: the report's issued count, and so its redemption rate, leave it out.
    A mail still on its way counts."""
    update_flows(store.site, {"flows": {"win_back": {"coupon": UNIQUE}}})
    _lapsed(store, "ann@example.com", "bob@example.com", "cyd@example.com")
    store.run(T0, T0 + 6 * DAY, every=12 * HOUR)

    real, broken = sending.render_email, []

    def failing_once(flow, step, context, **kwargs):
        if step == 2 and not broken:
            broken.append(context["coupon"]["code"])
            raise RuntimeError("the owner's template broke")
        return real(flow, step, context, **kwargs)

    monkeypatch.setattr(sending, "render_email", failing_once)
    store.run(T0 + 7 * DAY, T0 + 8 * DAY, every=12 * HOUR)
    made = {c.code: c.contact.email for c in IssuedCoupon.select() if c.status == "created"}
    assert len(made) == 3 and broken[0] in made  # the store holds all three codes
    mails = {m.to_email: m for m in store.messages("win_back") if m.step == 2}
    assert sorted(mails) == sorted(set(made.values()) - {made[broken[0]]})
    assert flow_report(store.site.id, "win_back")["steps"][1]["coupons"]["issued"] == 2

    dropped = next(iter(mails.values()))
    at = (T0 + 8 * DAY).replace(tzinfo=UTC)
    apply_provider_events(
        [EmailEvent("dropped", dropped.to_email, at, "e1", "sg1.x", dropped.uuid, reason="Spam")],
        T0 + 8 * DAY,
    )
    report = flow_report(store.site.id, "win_back")["steps"][1]["coupons"]
    assert (report["issued"], report["redeemed"], report["redemption_rate"]) == (1, 0, 0.0)
