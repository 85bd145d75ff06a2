"""One rendered body for many recipients: SendGrid substitutions carry each one's name and links."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from companion.email.rendering import (
    RenderedEmail,
    for_substitution,
    personal_copy,
    render_email,
    shared_tracking,
    substitution_tag,
)
from companion.email.sendgrid import (
    OutgoingMessage,
    SendGridTransport,
    SendResult,
    marketing_headers,
)
from companion.email.tokens import PURPOSE_CLICK, PURPOSE_OPEN, PURPOSE_UNSUBSCRIBE, read_token

PUBLIC_URL = "https://companion.example.com"


def _shared_vip(context: dict[str, Any]) -> RenderedEmail:
    personal = {**context, "contact": {"first_name": substitution_tag("first_name")}}
    return for_substitution(
        render_email("vip", 1, personal, **shared_tracking(PUBLIC_URL).render_kwargs())
    )


def _as_sendgrid_delivers(body: str, substitutions: dict[str, str]) -> str:
    for tag, value in substitutions.items():
        body = body.replace(tag, value)
    return body


def test_each_recipient_gets_their_own_name_and_signed_links(
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    shared = _shared_vip(shop_context)
    message_id = str(uuid.uuid4())
    copy = personal_copy(shared, PUBLIC_URL, link_secret, message_id, {"first_name": "Åsa <3"})
    delivered_html = _as_sendgrid_delivers(shared.html, copy.substitutions)
    delivered_text = _as_sendgrid_delivers(shared.text, copy.substitutions)
    assert "Åsa &lt;3" in delivered_html and "Åsa <3" in delivered_text
    assert copy.subject == "You are a Ana & Bo's VIP"
    assert not re.search(r"-sct?_\w+-", delivered_html + delivered_text)
    clicks = re.findall(r"/t/c/([\w\-.]+)", delivered_html + delivered_text)
    indexes = {read_token(link_secret, PURPOSE_CLICK, t)["l"] for t in clicks}
    assert indexes == set(range(len(shared.links)))
    pixel = re.search(r"/t/o/([\w\-.]+)\.gif", delivered_html)
    assert pixel and read_token(link_secret, PURPOSE_OPEN, pixel.group(1)) == {"m": message_id}
    unsubscribe = copy.unsubscribe_url.rsplit("/", 1)[1]
    assert read_token(link_secret, PURPOSE_UNSUBSCRIBE, unsubscribe) == {"m": message_id}
    assert html.escape(copy.unsubscribe_url) in delivered_html


def test_a_thousand_personalised_recipients_are_one_accepted_request(
    transport: SendGridTransport,
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    shared = _shared_vip(shop_context)
    messages = []
    for i in range(1000):
        message_id = str(uuid.uuid4())
        copy = personal_copy(
            shared, PUBLIC_URL, link_secret, message_id, {"first_name": f"Customer {i}"}
        )
        messages.append(
            OutgoingMessage(
                message_id=message_id,
                to_email=f"customer{i}@example.com",
                from_email="shop@example.com",
                subject=copy.subject,
                html=shared.html,
                text=shared.text,
                substitutions=copy.substitutions,
                headers=marketing_headers(copy.unsubscribe_url),
                categories=["vip"],
            )
        )
    assert sum(len(k) + len(v) for k, v in messages[0].substitutions.items()) < 10_000
    outcomes = transport.send_batch(messages)
    assert len(outcomes) == 1000
    assert all(isinstance(o, SendResult) for o in outcomes.values())
    assert len({id(o) for o in outcomes.values()}) == 1


def test_substitution_values_must_be_strings_for_sendgrid(
    shop_context: dict[str, Any],
    link_secret: bytes,
) -> None:
    shared = _shared_vip(shop_context)
    copy = personal_copy(shared, PUBLIC_URL, link_secret, "m", {"first_name": "A"})
    assert all(isinstance(v, str) for v in copy.substitutions.values())
