"""The owner's view: flow settings, per-flow reports and the outbox, over the HTTP API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from companion.flows.config import update_flows
from companion.flows.reports import message_detail
from companion.models import Contact, MessageBody, utcnow
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _url(site, tail=""):
    return f"/v1/sites/{site.site.public_id}/{tail}"


def test_the_eight_flows_are_on_by_default_with_their_delays(client, site):
    answer = client.get(_url(site, "flows"), headers=bearer(site))
    assert answer.status_code == 200
    flows = {flow["key"]: flow for flow in answer.json["flows"]}
    assert list(flows) == [
        "post_purchase",
        "abandoned_cart",
        "browse_abandonment",
        "cross_sell",
        "win_back",
        "vip",
        "replenishment",
        "renewal_reminder",
    ]
    assert all(flow["enabled"] for flow in flows.values())
    assert [s["delay_hours"] for s in flows["abandoned_cart"]["steps"]] == [1, 24, 72]
    assert flows["post_purchase"]["is_marketing"] is False and flows["vip"]["is_marketing"] is True
    assert answer.json["settings"]["from_email"] == "shop@shop.example"
    assert answer.json["settings"]["quiet_hours"] == {"start": "21:00", "end": "08:00"}


def test_an_owner_changes_a_delay_and_a_subject_and_the_next_mail_follows_them(client, site, store):
    change = {
        "steps": [
            {
                "step": 1,
                "delay_hours": 3,
                "subject": "{{ contact.first_name }}, your cart misses you",
            }
        ],
        "from_name": "Ann's Mugs",
        "reply_to": "help@shop.example",
    }
    answer = client.put(_url(site, "flows/abandoned_cart"), json=change, headers=bearer(site))
    assert answer.status_code == 200, answer.json
    assert (
        answer.json["steps"][0]["delay_hours"] == 3 and answer.json["steps"][1]["delay_hours"] == 24
    )
    store.send(
        [f.cart("c1", at=iso(T0)), f.event("customer.updated", {}, at=iso(T0), first_name="Ann")],
        T0,
    )
    store.run(T0, T0 + 2 * HOUR)
    assert store.messages("abandoned_cart") == []
    store.tick(T0 + 3 * HOUR)
    [mail] = store.messages("abandoned_cart")
    assert (mail.subject, mail.from_name, mail.reply_to) == (
        "Ann, your cart misses you",
        "Ann's Mugs",
        "help@shop.example",
    )


def test_a_disabled_flow_enrols_nobody(client, site, store):
    client.put(_url(site, "flows/abandoned_cart"), json={"enabled": False}, headers=bearer(site))
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + DAY, every=6 * HOUR)
    assert store.enrolments("abandoned_cart") == [] and store.messages() == []


def test_shared_settings_change_for_every_flow(client, site):
    change = {
        "settings": {
            "quiet_hours": None,
            "frequency_cap": {"max_messages": 3, "per_hours": 48},
            "from_email": "hello@shop.example",
        },
        "flows": {"vip": {"reward": {"title": "Free shipping", "code": "VIPSHIP"}}},
    }
    answer = client.put(_url(site, "flows"), json=change, headers=bearer(site))
    assert answer.status_code == 200, answer.json
    assert answer.json["settings"]["quiet_hours"] is None
    assert answer.json["settings"]["frequency_cap"] == {"max_messages": 3, "per_hours": 48}
    flows = {flow["key"]: flow for flow in answer.json["flows"]}
    assert flows["win_back"]["from_email"] == "hello@shop.example"
    assert flows["vip"]["reward"]["code"] == "VIPSHIP"


def test_invalid_settings_are_refused_with_the_reason_and_nothing_is_saved(client, site):
    bad_template = {"steps": [{"step": 1, "subject": "{{ unclosed"}]}
    answer = client.put(_url(site, "flows/win_back"), json=bad_template, headers=bearer(site))
    assert answer.status_code == 422 and "template error" in str(answer.json["fields"])
    assert (
        client.put(
            _url(site, "flows/win_back"), json={"steps": [{"step": 3}]}, headers=bearer(site)
        ).status_code
        == 422
    )
    assert (
        client.put(
            _url(site, "flows"),
            json={"settings": {"quiet_hours": {"start": "25:00", "end": "08:00"}}},
            headers=bearer(site),
        ).status_code
        == 422
    )
    assert (
        client.put(
            _url(site, "flows/win_back"), json={"sender": "x"}, headers=bearer(site)
        ).status_code
        == 422
    )
    assert (
        client.put(_url(site, "flows/win_back"), data="nope", headers=bearer(site)).status_code
        == 422
    )
    assert (
        client.get(_url(site, "flows/win_back"), headers=bearer(site)).json["steps"][0]["subject"]
        is None
    )


@pytest.mark.parametrize(
    "change",
    [
        {"smart_sending_hours": 2.5},
        {"win_back_after_days": 30.5},
        {"vip_min_orders": 2.0000001},
        {"recent_trigger_hours": 1e-9},
        {"frequency_cap": {"max_messages": 2.5, "per_hours": 24}},
    ],
)
def test_a_fraction_where_a_whole_number_belongs_is_refused_not_rounded(client, site, change):
    """schemathesis found smart_sending_hours 2.6e-42 saved as 0 (smart sending off) with a 200."""
    before = client.get(_url(site, "flows"), headers=bearer(site)).json["settings"]
    answer = client.put(_url(site, "flows"), json={"settings": change}, headers=bearer(site))
    assert answer.status_code == 422 and next(iter(change)) in str(answer.json["fields"])
    assert client.get(_url(site, "flows"), headers=bearer(site)).json["settings"] == before


def test_an_unknown_flow_is_404(client, site):
    assert client.get(_url(site, "flows/newsletter"), headers=bearer(site)).status_code == 404
    assert (
        client.get(_url(site, "flows/newsletter/report"), headers=bearer(site)).status_code == 404
    )


def test_the_other_sites_token_and_no_token_get_401(client, site, other_site, store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + HOUR)
    [mail] = store.messages()
    for path in ("flows", "flows/vip", "flows/vip/report", "outbox", f"outbox/{mail.uuid}"):
        assert client.get(_url(site, path), headers=bearer(other_site)).status_code == 401
        assert client.get(_url(site, path)).status_code == 401
    assert (
        client.put(
            _url(site, "flows/vip"), json={"enabled": False}, headers=bearer(other_site)
        ).status_code
        == 401
    )
    assert (
        client.get(_url(other_site, f"outbox/{mail.uuid}"), headers=bearer(other_site)).status_code
        == 404
    )


def test_the_outbox_shows_each_rendered_mail_as_its_recipient_would_see_it(client, site, store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.run(T0, T0 + HOUR)
    page = client.get(_url(site, "outbox?status=outbox"), headers=bearer(site)).json
    assert page["total"] == 1 and page["messages"][0]["flow"] == "abandoned_cart"
    detail = client.get(
        _url(site, f"outbox/{page['messages'][0]['id']}"), headers=bearer(site)
    ).json
    assert detail["subject"] == "You left something in your cart" and detail["status"] == "outbox"
    assert "Mug" in detail["html"] and "Mug" in detail["text"] and "€29.90" in detail["text"]
    assert re.search(r"http://companion.test/t/c/[\w\-.]+", detail["html"])
    assert client.get(_url(site, "outbox?status=sent"), headers=bearer(site)).json["total"] == 0


def test_a_vip_broadcast_shares_one_body_and_each_recipient_sees_their_own_name(
    client, site, store
):
    store.go_live(T0 - DAY)
    update_flows(
        site.site, {"flows": {"vip": {"reward": {"title": "Free shipping", "code": "VIPSHIP"}}}}
    )
    store.send(
        [
            f.event("customer.updated", {}, email=f"vip{i}@example.com", first_name=f"Vip{i}")
            for i in range(3)
        ],
        T0,
    )
    Contact.update(stage="vip").execute()
    store.tick(T0 + 2 * HOUR)
    mails = store.messages("vip")
    assert len(mails) == 3 and MessageBody.select().count() == 1
    for mail in mails:
        detail = client.get(_url(site, f"outbox/{mail.uuid}"), headers=bearer(site)).json
        name = mail.to_email.split("@")[0].capitalize()
        assert (
            f"Welcome to our best customers, {name}" in detail["html"]
            and "-sc_" not in detail["html"]
        )


def test_the_report_counts_the_funnel_and_the_recovered_cart(client, site, store, sendgrid):
    update_flows(site.site, {"settings": {"quiet_hours": None}})
    now = utcnow()  # the click below is recorded at the real time, so the story happens now
    store.send([f.cart("c1", at=iso(now - HOUR))], now)
    store.tick(now, transport=sendgrid)
    [mail] = store.messages("abandoned_cart")
    click = re.search(
        r"http://companion.test(/t/c/[\w\-.]+)", message_detail(site.site.id, mail.uuid)["html"]
    )
    assert client.get(click.group(1)).status_code == 302
    later = now + timedelta(minutes=5)
    store.send(
        [
            f.order(
                5,
                modified=iso(later),
                created=iso(later),
                paid=iso(later),
                cart_token="c1",
                total="29.90",
            )
        ],
        later,
    )
    report = client.get(_url(site, "flows/abandoned_cart/report"), headers=bearer(site)).json
    assert (report["enrolled"], report["exited"], report["sent"], report["clicked"]) == (1, 1, 1, 1)
    assert (report["orders"], report["revenue"]) == (1, "29.90")
    assert (report["recovered_carts"], report["recovered_revenue"]) == (1, "29.90")
    assert report["steps"][0]["clicked"] == 1 and report["steps"][1]["sent"] == 0
    future = client.get(
        _url(site, "flows/abandoned_cart/report?from=2099-01-01T00:00:00Z"), headers=bearer(site)
    )
    assert future.json["enrolled"] == 0 and future.json["orders"] == 0
