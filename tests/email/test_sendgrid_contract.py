"""Every default email, as we send it, is a valid SendGrid v3 mail/send (Prism as SendGrid)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest

from companion.email.rendering import render_email, tracking_for
from companion.email.sendgrid import (
    OutgoingMessage,
    PermanentSendError,
    SendGridTransport,
    SendResult,
    group_for_batches,
    marketing_headers,
)
from tests.email.test_rendering import ALL_STEPS

PUBLIC_URL = "https://companion.example.com"
TRANSACTIONAL = {"post_purchase", "renewal_reminder"}


def _message(flow: str, step: int, context: dict[str, Any], secret: bytes) -> OutgoingMessage:
    message_id = str(uuid.uuid4())
    tracking = tracking_for(PUBLIC_URL, secret, message_id)
    email = render_email(flow, step, context, **tracking.render_kwargs())
    headers = {} if flow in TRANSACTIONAL else marketing_headers(tracking.unsubscribe_url)
    return OutgoingMessage(
        message_id=message_id,
        to_email="zoe@example.com",
        to_name="Zoë Example",
        from_email="shop@example.com",
        from_name="Ana & Bo's",
        reply_to="help@example.com",
        subject=email.subject,
        html=email.html,
        text=email.text,
        categories=[flow, f"{flow}:{step}"],
        custom_args={"flow": flow, "step": str(step)},
        headers=headers,
    )


@pytest.mark.parametrize("flow, step", ALL_STEPS)
def test_every_step_of_every_flow_is_accepted_by_sendgrid(
    transport: SendGridTransport,
    shop_context: dict[str, Any],
    link_secret: bytes,
    flow: str,
    step: int,
) -> None:
    result = transport.send(_message(flow, step, shop_context, link_secret))
    assert isinstance(result, SendResult)


def test_a_scheduled_marketing_mail_is_accepted(
    transport: SendGridTransport,
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    message = dataclasses.replace(
        _message("vip", 1, shop_context, link_secret), send_at=1_900_000_000
    )
    assert isinstance(transport.send(message), SendResult)


def test_a_bad_sender_address_is_refused_permanently(
    transport: SendGridTransport,
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    message = dataclasses.replace(
        _message("vip", 1, shop_context, link_secret), from_email="not an address"
    )
    with pytest.raises(PermanentSendError) as refused:
        transport.send(message)
    assert refused.value.status == 400 and not refused.value.retryable
    assert "from.email" in str(refused.value)


def test_a_message_without_a_recipient_address_is_refused_permanently(
    transport: SendGridTransport,
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    message = dataclasses.replace(_message("vip", 1, shop_context, link_secret), to_email="")
    with pytest.raises(PermanentSendError):
        transport.send(message)


def test_a_batch_of_a_thousand_recipients_is_one_accepted_request(
    transport: SendGridTransport,
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    template = _message("vip", 1, shop_context, link_secret)
    messages = [
        dataclasses.replace(
            template,
            message_id=str(uuid.uuid4()),
            to_email=f"customer{i}@example.com",
            to_name=f"Customer {i}",
        )
        for i in range(1000)
    ]
    assert len(list(group_for_batches(messages))) == 1
    outcomes = transport.send_batch(messages)
    assert len(outcomes) == 1000
    assert all(isinstance(o, SendResult) for o in outcomes.values())


def test_in_a_batch_a_refused_group_does_not_hide_the_accepted_one(
    transport: SendGridTransport,
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    good = _message("vip", 1, shop_context, link_secret)
    bad = dataclasses.replace(_message("vip", 1, shop_context, link_secret), from_email="nope")
    outcomes = transport.send_batch([good, bad])
    assert isinstance(outcomes[good.message_id], SendResult)
    assert isinstance(outcomes[bad.message_id], PermanentSendError)
