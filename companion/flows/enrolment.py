"""Enrol contacts into flows and take them out again; both idempotent.

An enrolment is unique per (site, flow, key), so a trigger seen twice, or a scan repeated after a
restart, enrols once. Its step rows are written in the same transaction, due at the trigger's
moment plus each step's delay.
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

CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    contact_id: int
    key: str
    started_at: datetime
    context: dict[str, Any] = field(default_factory=dict)


def enrol(site_id: int, flow: FlowConfig, candidates: Iterable[Candidate], now: datetime) -> int:
    """Enrol each candidate not enrolled yet under its key; answers how many are new."""
    pending = list({c.key: c for c in candidates}.values())
    if not flow.enabled:
        return 0
    added = 0
    for start in range(0, len(pending), CHUNK):
        with write_transaction():
            added += _enrol_chunk(site_id, flow, pending[start:start + CHUNK], now)
    return added


def _enrol_chunk(site_id: int, flow: FlowConfig, chunk: list[Candidate], now: datetime) -> int:
    key = flow.definition.key
    insert_rows(Enrolment, [
        {"site": site_id, "flow_key": key, "key": c.key, "contact": c.contact_id, "status": "active",
         "context": c.context, "started_at": c.started_at, "enrolled_at": now} for c in chunk
    ], ignore_conflicts=True)
    fresh = list(Enrolment.select(Enrolment.id, Enrolment.started_at)
                 .join(ScheduledStep, JOIN.LEFT_OUTER, on=(ScheduledStep.enrolment == Enrolment.id))
                 .where(Enrolment.site == site_id, Enrolment.flow_key == key,
                        Enrolment.key.in_([c.key for c in chunk]), ScheduledStep.id.is_null()))
    rows = [{"site": site_id, "enrolment": e.id, "step": s.step, "status": "pending",
             "due_at": e.started_at + timedelta(hours=s.delay_hours)}
            for e in fresh for s in flow.steps]
    insert_rows(ScheduledStep, rows, ignore_conflicts=True)
    return len(fresh)


def exit_enrolments(site_id: int, where: Any, reason: str, now: datetime) -> int:
    """End the active enrolments matching `where` and cancel their steps not yet claimed."""
    ids = [e.id for e in Enrolment.select(Enrolment.id).where(
        Enrolment.site == site_id, Enrolment.status == "active", where)]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        Enrolment.update(status="exited", exit_reason=reason, ended_at=now).where(
            Enrolment.id.in_(chunk), Enrolment.status == "active").execute()
        ScheduledStep.update(status="cancelled", outcome=f"exit: {reason}").where(
            ScheduledStep.enrolment.in_(chunk), ScheduledStep.status == "pending").execute()
    return len(ids)


def exit_contact(site_id: int, contact_ids: Iterable[int], flow_keys: Iterable[str], reason: str,
                 now: datetime) -> int:
    ids, keys = list(set(contact_ids)), list(flow_keys)
    if not ids or not keys:
        return 0
    return exit_enrolments(site_id, Enrolment.contact.in_(ids) & Enrolment.flow_key.in_(keys),
                           reason, now)


def complete_if_finished(enrolment_id: int, now: datetime) -> None:
    open_steps = ScheduledStep.select().where(ScheduledStep.enrolment == enrolment_id,
                                              ScheduledStep.status.in_(("pending", "claimed")))
    if not open_steps.exists():
        Enrolment.update(status="completed", ended_at=now).where(
            Enrolment.id == enrolment_id, Enrolment.status == "active").execute()
