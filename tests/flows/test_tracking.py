"""Opens, clicks and unsubscribes from the links in our mail, and SendGrid's signed Event
Webhook."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from companion.app import create_app
from companion.core.db import database
from companion.email.sendgrid import MESSAGE_ID_ARG
from companion.flows.reports import message_detail
from companion.models import Message, Suppression
from companion.models.attribution import EmailTouch
from tests import factories as f
from tests.flows.store import T0, iso


@pytest.fixture
def cart_mail(store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    store.tick(T0 + timedelta(hours=1))
    [message] = store.messages("abandoned_cart")
    return message, message_detail(store.site.id, message.uuid)


def _tokens(html, kind):
    return re.findall(rf"http://companion.test/{kind}/([\w\-.]+)", html)


def test_a_click_goes_to_the_recorded_url_with_utm_parameters_and_is_recorded(client, cart_mail):
    message, detail = cart_mail
    token = _tokens(detail["html"], "t/c")[-1]
    answer = client.get(f"/t/c/{token}")
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://shop.example/checkout"
    assert query["utm_source"] == ["sales-companion"] and query["utm_medium"] == ["email"]
    assert query["utm_campaign"] == ["abandoned_cart"] and "sc_recover" in query
    stored = Message.get_by_id(message.id)
    assert stored.clicked_at is not None and stored.click_count == 1
    assert EmailTouch.get(EmailTouch.message_uuid == message.uuid).kind == "click"


def test_a_forged_or_unknown_click_link_goes_nowhere(client, cart_mail):
    _, detail = cart_mail
    token = _tokens(detail["html"], "t/c")[0]
    assert client.get(f"/t/c/{token[:-2]}xx").status_code == 404
    assert client.get("/t/c/not-a-token").status_code == 404


def test_the_open_pixel_records_an_open_and_answers_a_gif(client, cart_mail):
    message, detail = cart_mail
    [token] = re.findall(r"/t/o/([\w\-.]+)\.gif", detail["html"])
    answer = client.get(f"/t/o/{token}.gif")
    assert answer.status_code == 200 and answer.mimetype == "image/gif"
    assert Message.get_by_id(message.id).opened_at is not None
    assert client.get("/t/o/garbage.gif").status_code == 200


def test_opening_the_unsubscribe_link_asks_first_and_the_one_click_post_unsubscribes(
    client, store, cart_mail
):
    _, detail = cart_mail
    path = detail["headers"]["List-Unsubscribe"].strip("<>").removeprefix("http://companion.test")
    page = client.get(path)
    assert page.status_code == 200 and b'<form method="post">' in page.data
    assert Suppression.select().count() == 0
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and b"unsubscribed" in done.data
    assert (
        Suppression.get().reason == "unsubscribe" and Suppression.get().email == "ann@example.com"
    )
    assert {e.status for e in store.enrolments("abandoned_cart")} == {"exited"}
    assert client.post(path).status_code == 200  # a second click changes nothing
    assert client.get("/u/forged.token").status_code == 404
    for answer in (page, done):  # the real pages, not only the 404 one (issue 16, defect 6)
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["X-Frame-Options"] == "DENY"


@pytest.fixture(scope="module")
def signing_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def signed_client(settings, signing_key, db):
    der = signing_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    app = create_app(
        dataclasses.replace(settings, sendgrid_webhook_public_key=base64.b64encode(der).decode()),
        migrate=False,
    )
    database.initialize(db)
    return app.test_client()


def _post_events(client, key, entries, timestamp=None):
    """Signed as SendGrid signs: over the timestamp header (now, unless given) and the body."""
    timestamp = timestamp or str(int(time.time()))
    body = json.dumps(entries).encode()
    signature = base64.b64encode(
        key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    ).decode()
    return client.post(
        "/v1/sendgrid/events",
        data=body,
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "Content-Type": "application/json",
        },
    )


def test_without_a_verification_key_the_event_webhook_says_how_to_configure_it(client):
    answer = client.post("/v1/sendgrid/events", json=[])
    assert (
        answer.status_code == 503
        and "COMPANION_SENDGRID_WEBHOOK_PUBLIC_KEY" in answer.json["error"]
    )


def test_an_unsigned_or_forged_event_body_is_refused(signed_client, signing_key, cart_mail):
    message, _ = cart_mail
    assert signed_client.post("/v1/sendgrid/events", json=[]).status_code == 401
    other = ec.generate_private_key(ec.SECP256R1())
    assert (
        _post_events(
            signed_client, other, [{"event": "bounce", MESSAGE_ID_ARG: message.uuid}]
        ).status_code
        == 401
    )
    assert Message.get_by_id(message.id).bounced_at is None


def test_a_validly_signed_body_with_a_timestamp_more_than_five_minutes_off_is_refused(
    signed_client, signing_key, cart_mail
):
    message, _ = cart_mail
    entry = [
        {
            "email": "ann@example.com",
            "timestamp": 1764170000,
            "event": "bounce",
            MESSAGE_ID_ARG: message.uuid,
        }
    ]
    three_days_ago, soon = str(int(time.time()) - 3 * 86400), str(int(time.time()) + 6 * 60)
    for stale in (three_days_ago, soon, "yesterday"):
        answer = _post_events(signed_client, signing_key, entry, timestamp=stale)
        assert answer.status_code == 401 and "timestamp" in answer.json["error"], stale
    assert Message.get_by_id(message.id).bounced_at is None
    just_now = str(int(time.time()) - 4 * 60)
    assert _post_events(signed_client, signing_key, entry, timestamp=just_now).status_code == 200


def test_signed_events_record_delivery_and_a_bounce_suppresses_the_address(
    signed_client, signing_key, store, cart_mail
):
    message, _ = cart_mail
    entries = [
        {
            "email": "ann@example.com",
            "timestamp": 1764170000,
            "event": "delivered",
            "sg_event_id": "e1",
            "sg_message_id": "abc.filter",
            MESSAGE_ID_ARG: message.uuid,
        },
        {
            "email": "ann@example.com",
            "timestamp": 1764170100,
            "event": "bounce",
            "type": "bounce",
            "sg_event_id": "e2",
            MESSAGE_ID_ARG: message.uuid,
        },
        {
            "email": "x@example.com",
            "timestamp": 1764170100,
            "event": "delivered",
            MESSAGE_ID_ARG: "unknown",
        },
    ]
    answer = _post_events(signed_client, signing_key, entries)
    assert answer.status_code == 200 and answer.json == {"applied": 2, "ignored": 1}
    stored = Message.get_by_id(message.id)
    assert stored.delivered_at is not None and stored.bounced_at is not None
    assert Suppression.get().reason == "bounce"
    assert {e.exit_reason for e in store.enrolments("abandoned_cart")} == {"bounce"}


def test_a_spam_report_suppresses_the_address_for_this_site_only(
    signed_client, signing_key, store, other_store, cart_mail
):
    message, _ = cart_mail
    _post_events(
        signed_client,
        signing_key,
        [
            {
                "email": "ann@example.com",
                "timestamp": 1764170000,
                "event": "spamreport",
                MESSAGE_ID_ARG: message.uuid,
            }
        ],
    )
    assert [(s.site_id, s.reason) for s in Suppression.select()] == [(store.site.id, "complaint")]
