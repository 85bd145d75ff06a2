"""SendGrid's Event Webhook: ECDSA signature check and the events it carries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from companion.email.sendgrid import MESSAGE_ID_ARG, parse_events, verify_event_webhook

TIMESTAMP = "1764170000"
BODY = json.dumps(
    [
        {
            "email": "Zoe@Example.com",
            "timestamp": 1764169990,
            "event": "delivered",
            "sg_event_id": "ev-1",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "response": "250 OK",
            MESSAGE_ID_ARG: "0b6f4c1e-2f7e-4d8e-9a55-3f0a51b2c001",
            "flow": "vip",
        },
        {
            "email": "zoe@example.com",
            "timestamp": 1764170000,
            "event": "click",
            "sg_event_id": "ev-2",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "url": "https://companion.example.com/t/c/abc.def",
            "url_offset": {"index": 0, "type": "html"},
            "useragent": "Mozilla/5.0",
            "ip": "203.0.113.9",
            MESSAGE_ID_ARG: "0b6f4c1e",
        },
        {
            "email": "gone@example.com",
            "timestamp": 1764170001,
            "event": "bounce",
            "type": "bounce",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist",
            "status": "5.1.1",
            "sg_event_id": "ev-3",
            "sg_message_id": "x.filter",
            MESSAGE_ID_ARG: "m3",
        },
        {"email": "a@example.com", "timestamp": 1764170002, "event": "some_future_event"},
    ]
).encode()


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _sendgrid_signature(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    """What SendGrid puts in X-Twilio-Email-Event-Webhook-Signature: base64 DER ECDSA."""
    return base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


def _dashboard_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid's settings page shows it: base64 DER, no PEM armour."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def test_a_body_signed_by_sendgrid_is_accepted(signing_key: ec.EllipticCurvePrivateKey) -> None:
    signature = _sendgrid_signature(signing_key, TIMESTAMP, BODY)
    assert verify_event_webhook(_dashboard_key(signing_key), BODY, signature, TIMESTAMP)


def test_the_key_may_also_be_given_as_pem(signing_key: ec.EllipticCurvePrivateKey) -> None:
    pem = (
        signing_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signature = _sendgrid_signature(signing_key, TIMESTAMP, BODY)
    assert verify_event_webhook(pem, BODY, signature, TIMESTAMP)


def test_a_changed_body_is_rejected(signing_key: ec.EllipticCurvePrivateKey) -> None:
    signature = _sendgrid_signature(signing_key, TIMESTAMP, BODY)
    tampered = BODY.replace(b"delivered", b"spamreport")
    assert not verify_event_webhook(_dashboard_key(signing_key), tampered, signature, TIMESTAMP)


def test_a_replayed_signature_with_another_timestamp_is_rejected(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    signature = _sendgrid_signature(signing_key, TIMESTAMP, BODY)
    assert not verify_event_webhook(_dashboard_key(signing_key), BODY, signature, "1764179999")


def test_a_signature_from_another_key_is_rejected(signing_key: ec.EllipticCurvePrivateKey) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    signature = _sendgrid_signature(stranger, TIMESTAMP, BODY)
    assert not verify_event_webhook(_dashboard_key(signing_key), BODY, signature, TIMESTAMP)


@pytest.mark.parametrize("signature", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_signature_is_rejected_not_an_error(
    signing_key: ec.EllipticCurvePrivateKey,
    signature: str,
) -> None:
    assert not verify_event_webhook(_dashboard_key(signing_key), BODY, signature, TIMESTAMP)


def test_a_misconfigured_key_is_reported_as_such() -> None:
    with pytest.raises(ValueError, match="verification key"):
        verify_event_webhook("bm90IGEga2V5", BODY, "AAAA", TIMESTAMP)


def test_events_come_back_typed_with_our_message_id() -> None:
    delivered, click, bounce = parse_events(BODY)
    assert delivered.event == "delivered" and delivered.email == "zoe@example.com"
    assert delivered.message_id == "0b6f4c1e-2f7e-4d8e-9a55-3f0a51b2c001"
    assert delivered.custom_args == {"flow": "vip"}
    assert delivered.timestamp == datetime(2025, 11, 26, 15, 13, 10, tzinfo=UTC)
    assert (delivered.sg_message_id or "").startswith("14c5d75ce93.dfd.64b469")
    assert click.url == "https://companion.example.com/t/c/abc.def"
    assert bounce.bounce_type == "bounce" and "does not exist" in (bounce.reason or "")


def test_unknown_event_types_are_skipped() -> None:
    assert [e.event for e in parse_events(BODY)] == ["delivered", "click", "bounce"]


@pytest.mark.parametrize("body", [b"{}", b"not json", b"[1, 2]"])
def test_a_body_that_is_not_an_array_of_events_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_events(body)
