"""Enrol contacts into flows and take them out again; both idempotent.

An enrolment is unique per (site, flow, key), so a trigger seen twice, or a scan repeated after a
restart, enrols once. Its step rows are written in the same transaction, due at the trigger's
moment plus each step's delay. A `held` enrolment (qualified before the flow started,
flows/backlog.py) gets no steps: it only records that this reason was seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from peewee import JOIN

from companion.core.bulk import insert_rows
from companion.core.db import write_transaction
from companion.flows.config import FlowConfig
from companion.models import Enrolment, ScheduledStep
from companion.models.messaging import OPEN_ENROLMENT

CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    contact_id: int
    key: str
    started_at: datetime
    context: dict[str, Any] = field(default_factory=dict)


def enrol(
    site_id: int,
    flow: FlowConfig,
    candidates: Iterable[Candidate],
    now: datetime,
    held: bool = False,
) -> int:
    """Enrol each candidate not enrolled yet under its key; answers how many are new. `held`:
    record them without steps (the backlog of a flow's first start)."""
    pending = list({c.key: c for c in candidates}.values())
    if not flow.enabled:
        return 0
    added = 0
    for start in range(0, len(pending), CHUNK):
        with write_transaction():
            added += _enrol_chunk(site_id, flow, pending[start : start + CHUNK], now, held)
    return added


def _enrol_chunk(
    site_id: int, flow: FlowConfig, chunk: list[Candidate], now: datetime, held: bool
) -> int:
    key = flow.definition.key
    inserted = insert_rows(
        Enrolment,
        [
            {
                "site": site_id,
                "flow_key": key,
                "key": c.key,
                "contact": c.contact_id,
                "status": "held" if held else "active",
                "context": c.context,
                "started_at": c.started_at,
                "enrolled_at": now,
            }
            for c in chunk
        ],
        ignore_conflicts=True,
        returning=("id",),
    )
    if held:
        return len(inserted)
    fresh = list(
        Enrolment.select(Enrolment.id, Enrolment.started_at)
        .join(ScheduledStep, JOIN.LEFT_OUTER, on=(ScheduledStep.enrolment == Enrolment.id))
        .where(
            Enrolment.site == site_id,
            Enrolment.flow_key == key,
            Enrolment.status == "active",
            Enrolment.key.in_([c.key for c in chunk]),
            ScheduledStep.id.is_null(),
        )
    )
    schedule_steps(site_id, flow, fresh, now)
    return len(fresh)


def step_times(flow: FlowConfig, started_at: datetime, now: datetime) -> list[datetime]:
    """When each step falls due: the trigger's moment plus its delay, but never sooner after the
    step before than their delays put them apart, counting from now for a step already past: a
    late enrolment gets its first mail now and the next a full interval later, not the same
    second."""
    times: list[datetime] = []
    for index, step in enumerate(flow.steps):
        due = started_at + timedelta(hours=step.delay_hours)
        times.append(
            max(due, now) if index == 0 else max(due, times[-1] + gap(flow, index, index + 1))
        )
    return times


def gap(flow: FlowConfig, earlier: int, later: int) -> timedelta:
    """How far apart steps `earlier` and `later` (numbers) are meant to be; never negative."""
    hours = flow.step(later).delay_hours - flow.step(earlier).delay_hours
    return timedelta(hours=max(hours, 0))


def keep_spacing(flow: FlowConfig, enrolment_ids: list[int], step: int, moment: datetime) -> None:
    """Step `step` of these enrolments goes (or will go) at `moment`: their later pending steps
    fall due no sooner than their spacing after it."""
    for later in range(step + 1, len(flow.steps) + 1):
        earliest = moment + gap(flow, step, later)
        for start in range(0, len(enrolment_ids), CHUNK):
            ScheduledStep.update(due_at=earliest).where(
                ScheduledStep.enrolment.in_(enrolment_ids[start : start + CHUNK]),
                ScheduledStep.step == later,
                ScheduledStep.status == "pending",
                ScheduledStep.due_at < earliest,
            ).execute()


def schedule_steps(
    site_id: int, flow: FlowConfig, enrolments: list[Enrolment], now: datetime
) -> None:
    rows = [
        {"site": site_id, "enrolment": e.id, "step": s.step, "status": "pending", "due_at": due}
        for e in enrolments
        for s, due in zip(flow.steps, step_times(flow, e.started_at, now), strict=True)
    ]
    insert_rows(ScheduledStep, rows, ignore_conflicts=True)


def exit_enrolments(site_id: int, where: Any, reason: str, now: datetime) -> int:
    """End the active enrolments matching `where` and cancel their steps not yet claimed."""
    ids = [
        e.id
        for e in Enrolment.select(Enrolment.id).where(
            Enrolment.site == site_id, Enrolment.status.in_(OPEN_ENROLMENT), where
        )
    ]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        Enrolment.update(status="exited", exit_reason=reason, ended_at=now).where(
            Enrolment.id.in_(chunk), Enrolment.status.in_(OPEN_ENROLMENT)
        ).execute()
        ScheduledStep.update(status="cancelled", outcome=f"exit: {reason}").where(
            ScheduledStep.enrolment.in_(chunk), ScheduledStep.status == "pending"
        ).execute()
    return len(ids)


def exit_contact(
    site_id: int, contact_ids: Iterable[int], flow_keys: Iterable[str], reason: str, now: datetime
) -> int:
    ids, keys = list(set(contact_ids)), list(flow_keys)
    if not ids or not keys:
        return 0
    return exit_enrolments(
        site_id, Enrolment.contact.in_(ids) & Enrolment.flow_key.in_(keys), reason, now
    )


def complete_if_finished(enrolment_id: int, now: datetime) -> None:
    open_steps = ScheduledStep.select().where(
        ScheduledStep.enrolment == enrolment_id, ScheduledStep.status.in_(("pending", "claimed"))
    )
    if not open_steps.exists():
        Enrolment.update(status="completed", ended_at=now).where(
            Enrolment.id == enrolment_id, Enrolment.status == "active"
        ).execute()
