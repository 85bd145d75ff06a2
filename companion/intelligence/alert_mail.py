"""Tell the owner about new alerts: one plain message per scan, sent like every mail.

The owner's address is the site option `alert_email` (else the flows' sender address). The
message is a transactional `Message` with flow key "alerts", recorded (status `sending`, or
`outbox` without a SendGrid key) before SendGrid is called, then delivered and its answer recorded
as the flows' are (a 429 or 5xx is retried by the flows' retry job). The alerts it names get
`notified_at` in the same transaction, so a second scan never mails them again.
"""

from __future__ import annotations

import hashlib
import html
import uuid
from datetime import datetime

from companion.core.db import write_transaction
from companion.flows.config import default_sender
from companion.flows.delivery import deliver
from companion.flows.run import SendRun
from companion.models import Message, MessageBody, Site
from companion.models.intelligence import Alert
from companion.sites import site_option


def owner_address(site: Site) -> str:
    return str(site_option(site, "alert_email") or default_sender(site))


def notify(site: Site, now: datetime, run: SendRun | None = None) -> Message | None:
    """Mail every alert of the site not yet notified (as of `now`); None when there is none.
    Through `run`'s transport when it has one, else into the outbox."""
    with write_transaction():
        message = _record(site, now, sending=run is not None and run.transport is not None)
    if message is not None and run is not None and run.transport is not None:
        deliver([message], run)
    return message


def _record(site: Site, now: datetime, sending: bool) -> Message | None:
    pending = list(
        Alert.select()
        .where(Alert.site == site.id, Alert.notified_at.is_null(), Alert.status == "open")
        .order_by(Alert.started_on, Alert.id)
    )
    if not pending:
        return None
    subject = f"{site.name}: {len(pending)} new alert{'s' if len(pending) > 1 else ''}"
    text = "\n\n".join(
        f"{a.title}\n{a.detail}"
        + (f"\nOrders: {', '.join(map(str, a.order_ids[:10]))}" if a.order_ids else "")
        for a in pending
    )
    body = "".join(
        f"<h3>{html.escape(a.title)}</h3><p>{html.escape(a.detail)}</p>" for a in pending
    )
    message = Message.create(
        uuid=str(uuid.uuid4()),
        site=site.id,
        flow_key="alerts",
        to_email=owner_address(site),
        from_email=default_sender(site),
        from_name="Sales Companion",
        subject=subject,
        body=_body(site.id, body, text),
        is_marketing=False,
        status="sending" if sending else "outbox",
        attempts=1 if sending else 0,
        sending_since=now if sending else None,
        created_at=now,
    )
    Alert.update(notified_at=now).where(Alert.id.in_([a.id for a in pending])).execute()
    return message


def _body(site_id: int, html_text: str, text: str) -> int:
    digest = hashlib.sha256(f"{html_text}\0{text}".encode()).hexdigest()
    MessageBody.insert(
        site=site_id, digest=digest, html=html_text, text=text
    ).on_conflict_ignore().execute()
    return int(MessageBody.get(MessageBody.site == site_id, MessageBody.digest == digest).id)
