"""A flow's first start mails nobody from the past: the backlog, and the owner's choice to send it.

Win-back, VIP and replenishment find people by scanning. When such a flow starts (the store is
connected, or the flow is switched on) everyone who qualifies already would otherwise be mailed
in the first minutes (531 win-back mails on the demo store). So a flow has a start moment per site
(a FlowCursor `live:<site>:<flow>`, set by the first scan that finds it on, removed by a scan that
finds it off): the people a scan finds at that start, or whose trigger happened before it (their
lapse, their due date, the order that made them a VIP), are enrolled `held`, without steps.

The owner sees how many wait (`backlog`) and may release them (`release`): they become active
with their steps spread evenly over days, `per_day` of them a day, never a burst. Held enrolments
end like active ones (an order, an unsubscribe, an erase), so the count stays true.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from peewee import fn

from companion.core.db import write_transaction
from companion.flows.config import FlowConfig
from companion.flows.enrolment import CHUNK, Candidate, enrol, schedule_steps
from companion.models import Enrolment
from companion.models.messaging import FlowCursor

SCANNED_FLOWS = ("win_back", "vip", "replenishment")
DEFAULT_PER_DAY = 50
DAY = timedelta(days=1)


def _cursor_name(site_id: int, flow_key: str) -> str:
    return f"live:{site_id}:{flow_key}"


def live_since(site_id: int, flow: FlowConfig, now: datetime) -> tuple[datetime | None, bool]:
    """When this flow started for the site, and whether it starts with this scan. A switched-off
    flow has no start: switched on again, it starts afresh."""
    name = _cursor_name(site_id, flow.definition.key)
    row = FlowCursor.get_or_none(FlowCursor.name == name)
    if not flow.enabled:
        if row is not None:
            FlowCursor.delete().where(FlowCursor.name == name).execute()
        return None, False
    if row is not None:
        return row.position, False
    FlowCursor.insert(name=name, position=now).on_conflict_ignore().execute()
    return FlowCursor.get(FlowCursor.name == name).position, True


def enrol_scanned(
    site_id: int, flow: FlowConfig, found: list[tuple[Candidate, datetime]], now: datetime
) -> int:
    """Enrol what a scan found, each with the moment its trigger happened: those from before the
    flow's start are held (the backlog), the others go. Answers how many will be mailed."""
    since, first = live_since(site_id, flow, now)
    if since is None:
        return 0
    old = [c for c, moment in found if first or moment < since]
    new = [c for c, moment in found if not (first or moment < since)]
    enrol(site_id, flow, old, now, held=True)
    return enrol(site_id, flow, new, now)


def waiting(site_id: int, flow_key: str) -> int:
    return (
        Enrolment.select(fn.COUNT(Enrolment.id))
        .where(
            Enrolment.site == site_id, Enrolment.flow_key == flow_key, Enrolment.status == "held"
        )
        .scalar()
        or 0
    )


def backlog(site_id: int, flow_key: str) -> dict[str, Any]:
    """What the owner is asked: how many people qualified before the flow started."""
    return {
        "flow": flow_key,
        "waiting": waiting(site_id, flow_key),
        "default_per_day": DEFAULT_PER_DAY,
    }


def release(site_id: int, flow: FlowConfig, per_day: int, now: datetime) -> dict[str, Any]:
    """Start the held enrolments, `per_day` a day, evenly spaced through each day (the oldest
    first). Safe to repeat: only `held` rows are taken, by a conditional update."""
    ids = [
        e.id
        for e in Enrolment.select(Enrolment.id)
        .where(
            Enrolment.site == site_id,
            Enrolment.flow_key == flow.definition.key,
            Enrolment.status == "held",
        )
        .order_by(Enrolment.id)
    ]
    spacing = DAY / per_day
    started = 0
    for start in range(0, len(ids), CHUNK):
        with write_transaction():
            for offset, enrolment_id in enumerate(ids[start : start + CHUNK], start):
                at = now + spacing * offset
                started += (
                    Enrolment.update(status="active", started_at=at)
                    .where(Enrolment.id == enrolment_id, Enrolment.status == "held")
                    .execute()
                )
            fresh = list(
                Enrolment.select(Enrolment.id, Enrolment.started_at).where(
                    Enrolment.id.in_(ids[start : start + CHUNK]), Enrolment.status == "active"
                )
            )
            schedule_steps(site_id, flow, fresh, now)
    days = -(-started // per_day) if started else 0
    return {"flow": flow.definition.key, "started": started, "per_day": per_day, "days": days}
