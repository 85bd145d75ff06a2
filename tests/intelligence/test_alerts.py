"""Alerts on a generated store: a revenue drop, a refund spike on one product, a product that
stops."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from companion.intelligence import alert_mail, alerts
from companion.models import Message
from companion.models.intelligence import Alert
from jobs import intelligence as intelligence_jobs
from jobs.schedule import SCHEDULE
from tests.helpers import bearer

from .incidents import Incidents, generate

PLAN = Incidents(first=date(2026, 5, 1))


def scan(site: Any, today: date) -> list[Alert]:
    """The alert job on `today` (noon UTC, the scan's clock), judging the days before it."""
    return alerts.scan_site(site, datetime.combine(today, time(12)), today=today)


@pytest.fixture
def store(site: Any) -> Any:
    generate(site.site, PLAN)
    return site


def _found(site: Any, start: int, kind: str, key: str = "") -> Alert | None:
    scan(site.site, PLAN.day(start + 2))  # the day after the first full incident day
    return (
        Alert.select()
        .where(Alert.site == site.site.id, Alert.kind == kind, Alert.key == key)
        .order_by(Alert.started_on)
        .first()
    )


def test_a_revenue_drop_is_found_within_a_day_of_its_start(store: Any) -> None:
    alert = _found(store, PLAN.revenue_drop, "revenue_drop")
    assert alert is not None and alert.status == "open"
    assert abs((alert.started_on - PLAN.day(PLAN.revenue_drop)).days) <= 1
    assert alert.relative_change < -0.3 and "against a usual" in alert.detail
    assert alert.order_ids  # links to the orders that still came in


def test_a_refund_spike_on_one_product_names_the_product_and_its_refunded_orders(
    store: Any,
) -> None:
    alert = _found(store, PLAN.refund_spike, "product_refund_spike", "p1")
    assert alert is not None and alert.product_id == "p1"
    assert abs((alert.started_on - PLAN.day(PLAN.refund_spike)).days) <= 1
    assert alert.observed > 2 * alert.baseline
    assert alert.order_ids


def test_a_product_that_stops_selling_is_found_within_a_day(store: Any) -> None:
    alert = _found(store, PLAN.stalled, "stalled_product", "p2")
    assert alert is not None and alert.product_id == "p2"
    assert abs((alert.started_on - PLAN.day(PLAN.stalled)).days) <= 1
    assert "stopped selling" in alert.title and alert.order_ids


def test_false_alarms_on_the_quiet_part_are_counted(store: Any) -> None:
    quiet = alerts.window_for(PLAN.day(PLAN.refund_spike))
    false = alerts.detect(store.site, quiet, report_days=alerts.WINDOW_DAYS)
    counts = {f.kind: sum(1 for g in false if g.kind == f.kind) for f in false}
    print(f"alert false alarms over {PLAN.refund_spike - 56} quiet judged days: {counts or 'none'}")
    assert len(false) <= 2


def test_scanning_twice_raises_each_alert_once_and_mails_the_owner_once(store: Any) -> None:
    today = PLAN.day(PLAN.revenue_drop + 2)
    mailed_at = datetime.combine(today, time(12, 5))  # the mail job, right after the scan
    first = scan(store.site, today)
    again = scan(store.site, today)
    assert first and not again
    message = alert_mail.notify(store.site, mailed_at)
    assert message is not None and message.status == "outbox" and message.flow_key == "alerts"
    assert "Revenue is down" in message.body.text
    assert alert_mail.notify(store.site, mailed_at) is None
    assert Message.select().where(Message.flow_key == "alerts").count() == 1


def test_the_alerts_route_lists_open_alerts_with_what_changed_and_since_when(
    store: Any, client: Any
) -> None:
    scan(store.site, PLAN.day(PLAN.revenue_drop + 2))
    answer = client.get(f"/v1/sites/{store.site.public_id}/alerts", headers=bearer(store))
    assert answer.status_code == 200
    kinds = {a["kind"]: a for a in answer.json["alerts"]}
    assert {"revenue_drop", "stalled_product"} <= set(kinds)
    stalled = kinds["stalled_product"]
    assert (
        stalled["product_id"] == "p2"
        and stalled["started_on"]
        and stalled["detail"].startswith("Since ")
    )


def test_the_scheduled_scan_covers_every_site_and_mails_once(store: Any, other_site: Any) -> None:
    assert intelligence_jobs.scan_alerts in [job for _, _, job in SCHEDULE]
    found = intelligence_jobs.scan_alerts()
    assert (
        set(found) == {store.site.public_id, other_site.site.public_id}
        and found[other_site.site.public_id] == 0
    )
    intelligence_jobs.scan_alerts()
    assert Message.select().where(Message.flow_key == "alerts").count() <= 1
