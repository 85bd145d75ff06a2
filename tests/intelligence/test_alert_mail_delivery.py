"""The owner's alert mail goes through SendGrid when a key is set (it stayed in the outbox)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from companion.core import runtime
from companion.flows.tick import new_run
from companion.intelligence import alert_mail
from companion.models import Message
from companion.models.intelligence import Alert
from jobs import intelligence

NOW = datetime(2026, 11, 20, 12, 5)


def _alert(site: Any) -> None:
    Alert.create(
        site=site.site.id,
        kind="revenue_drop",
        started_on=date(2026, 11, 19),
        title="Revenue is down 40%",
        detail="EUR 120 yesterday against EUR 200 on recent Thursdays.",
    )


def test_with_a_sendgrid_key_the_alert_mail_is_sent(
    site: Any, settings: Any, prism_url: str
) -> None:
    _alert(site)
    keyed = dataclasses.replace(settings, sendgrid_api_key="SG.test-key", sendgrid_host=prism_url)
    message = alert_mail.notify(site.site, NOW, new_run(keyed, NOW))
    assert message is not None
    stored = Message.get_by_id(message.id)
    assert (stored.status, stored.is_marketing, stored.sent_at) == ("sent", False, NOW)


def test_without_a_key_it_stays_in_the_outbox(site: Any, settings: Any) -> None:
    _alert(site)
    message = alert_mail.notify(site.site, NOW, new_run(settings, NOW))
    assert message is not None and Message.get_by_id(message.id).status == "outbox"


def test_the_alert_job_sends_through_the_configured_host(
    site: Any, settings: Any, prism_url: str, monkeypatch: Any
) -> None:
    runtime.configure(
        dataclasses.replace(settings, sendgrid_api_key="SG.test-key", sendgrid_host=prism_url)
    )
    _alert(site)
    # This empty store has no incident of its own; the scan would resolve the one made above.
    monkeypatch.setattr(intelligence.alerts, "scan_site", lambda site, now: [])
    intelligence.scan_alerts()
    [message] = Message.select().where(Message.flow_key == "alerts")
    assert message.status == "sent"
