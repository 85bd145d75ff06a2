"""POST /v1/sites/<id>/flows/<key>/test: one step through SendGrid (Prism) as a test, counted
nowhere."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import ClassVar

import pytest

from companion.api import flows as flows_api
from companion.app import create_app
from companion.core.db import database
from companion.email.sendgrid import SendGridTransport, request_body
from companion.flows.reports import flow_report
from companion.models import Message
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR = timedelta(hours=1)


class Recorded(SendGridTransport):
    """SendGrid as Prism plays it, keeping the request bodies it was given."""

    bodies: ClassVar[list[dict]] = []

    def send(self, message):
        Recorded.bodies.append(request_body([message]))
        return super().send(message)


@pytest.fixture
def sending_client(db, settings, prism_url, monkeypatch):
    Recorded.bodies = []
    configured = dataclasses.replace(
        settings, sendgrid_api_key="SG.test-key", sendgrid_host=prism_url
    )
    monkeypatch.setattr(
        flows_api,
        "transport_for",
        lambda s: Recorded(s.sendgrid_api_key, host=s.sendgrid_host, timeout=10.0),
    )
    application = create_app(configured, migrate=False)
    database.initialize(db)
    return application.test_client()


def _test(client, site, key, body):
    return client.post(
        f"/v1/sites/{site.site.public_id}/flows/{key}/test", json=body, headers=bearer(site)
    )


def test_it_goes_through_sendgrid_marked_as_a_test(sending_client, site, store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    answer = _test(
        sending_client,
        site,
        "abandoned_cart",
        {"to": "owner@shop.example", "step": 1, "email": "ann@example.com"},
    )
    assert answer.status_code == 202, answer.json
    assert answer.json["subject"] == "[Test] You left something in your cart"
    assert answer.json["sample_values"] is None  # Ann's own cart
    [body] = Recorded.bodies
    assert body["personalizations"][0]["to"] == [{"email": "owner@shop.example"}]
    assert body["personalizations"][0]["subject"].startswith("[Test] ")
    assert "sales-companion-test" in body["categories"]
    assert body["personalizations"][0]["custom_args"]["sc_test"] == "true"
    assert "Mug" in body["content"][0]["value"]


def test_a_test_of_made_up_values_says_so(sending_client, site):
    """A store with nobody the flow could mail: the test mail holds sample values, and the answer
    says so, as the preview does."""
    answer = _test(
        sending_client, site, "renewal_reminder", {"to": "owner@shop.example", "step": 1}
    )
    assert answer.status_code == 202, answer.json
    assert answer.json["sample_values"].startswith(
        "Sample values: no customer of your store has a subscription or licence"
    )
    [body] = Recorded.bodies
    assert "Pro plugin" in body["content"][0]["value"]


def test_it_is_counted_nowhere(sending_client, site, store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    for _ in range(3):  # more than the frequency cap of 2 a day, to the contact's own address
        assert (
            _test(
                sending_client, site, "abandoned_cart", {"to": "ann@example.com", "step": 1}
            ).status_code
            == 202
        )
    assert Message.select().count() == 0
    report = flow_report(site.site.id, "abandoned_cart")
    assert (report["sent"], report["enrolled"]) == (0, 0)
    store.tick(T0 + HOUR)  # the contact's real mail is not held back by the tests
    assert [m.subject for m in store.messages("abandoned_cart")] == [
        "You left something in your cart"
    ]
    assert (
        "/t/c/" not in Recorded.bodies[0]["content"][0]["value"]
    )  # no link that could credit an order


def test_it_checks_what_the_preview_checks(sending_client, site, other_store):
    other_store.send([f.cart("c1", at=iso(T0), email="zoe@example.com")], T0)
    assert (
        _test(
            sending_client,
            site,
            "abandoned_cart",
            {"to": "a@b.example", "step": 1, "email": "zoe@example.com"},
        ).status_code
        == 404
    )
    answer = _test(sending_client, site, "vip", {"to": "a@b.example", "step": 2})
    assert answer.status_code == 422 and answer.json["fields"] == {
        "step": ["vip has one step (1), not 2."]
    }
    answer = _test(sending_client, site, "vip", {"to": "not an address", "step": 1})
    assert answer.status_code == 422 and list(answer.json["fields"]) == ["to"]
    assert Recorded.bodies == []


def test_without_a_sendgrid_key_it_says_so(client, site):
    answer = _test(client, site, "vip", {"to": "owner@shop.example", "step": 1})
    assert answer.status_code == 409 and "outbox mode" in answer.json["error"]
