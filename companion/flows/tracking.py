"""Opens, clicks and unsubscribes from our signed links (DESIGN 3.4).

A click goes only to the URL recorded for that message and link index, with UTM parameters; the
recipient's unsubscribe suppresses the address and ends every enrolment of the contact.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from companion.email.tokens import (
    PURPOSE_CLICK,
    PURPOSE_OPEN,
    PURPOSE_UNSUBSCRIBE,
    BadToken,
    read_token,
)
from companion.flows.definitions import marketing_flows
from companion.flows.enrolment import exit_contact
from companion.flows.settlement import suppress
from companion.metrics.attribution import record_touch
from companion.models import Message

log = logging.getLogger(__name__)

UTM_SOURCE, UTM_MEDIUM = "sales-companion", "email"


def _message(secret: bytes, purpose: str, token: str) -> tuple[Message | None, dict[str, Any]]:
    try:
        payload = read_token(secret, purpose, token)
    except BadToken:
        return None, {}
    return Message.get_or_none(Message.uuid == str(payload.get("m"))), payload


def with_utm(url: str, flow_key: str, step: int | None) -> str:
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("utm_")
    ]
    query += [("utm_source", UTM_SOURCE), ("utm_medium", UTM_MEDIUM), ("utm_campaign", flow_key)]
    if step is not None:
        query.append(("utm_content", f"step{step}"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def record_open(secret: bytes, token: str, now: datetime) -> bool:
    message, _ = _message(secret, PURPOSE_OPEN, token)
    if message is None:
        return False
    Message.update(open_count=Message.open_count + 1).where(Message.id == message.id).execute()
    Message.update(opened_at=now).where(
        Message.id == message.id, Message.opened_at.is_null()
    ).execute()
    _touch(message, "open", now)
    return True


def click_target(secret: bytes, token: str, now: datetime) -> str | None:
    """The recorded URL for this click, with UTM parameters; None for a bad token or index."""
    message, payload = _message(secret, PURPOSE_CLICK, token)
    index = payload.get("l")
    links: list[str] = list(message.links or []) if message else []
    if message is None or not isinstance(index, int) or not 0 <= index < len(links):
        return None
    Message.update(click_count=Message.click_count + 1, last_clicked_at=now).where(
        Message.id == message.id
    ).execute()
    Message.update(clicked_at=now).where(
        Message.id == message.id, Message.clicked_at.is_null()
    ).execute()
    Message.update(opened_at=now).where(
        Message.id == message.id, Message.opened_at.is_null()
    ).execute()
    _touch(message, "click", now)
    return with_utm(links[index], message.flow_key, message.step)


def message_for_unsubscribe(secret: bytes, token: str) -> Message | None:
    return _message(secret, PURPOSE_UNSUBSCRIBE, token)[0]


def unsubscribe(message: Message, now: datetime) -> None:
    """Suppress the address for this site and end all the contact's enrolments. Repeatable."""
    suppress(message.site_id, message.to_email, "unsubscribe", message.id, now)
    Message.update(unsubscribed_at=now).where(
        Message.id == message.id, Message.unsubscribed_at.is_null()
    ).execute()
    if message.contact_id:
        exit_contact(message.site_id, [message.contact_id], marketing_flows(), "unsubscribed", now)


def _touch(message: Message, kind: str, now: datetime) -> None:
    """Tell email attribution (the metrics feature) about the open or click."""
    if message.contact_id:
        record_touch(
            message.site_id,
            message.contact_id,
            message.uuid,
            kind,
            now,
            flow_key=message.flow_key,
            step=message.step,
        )
