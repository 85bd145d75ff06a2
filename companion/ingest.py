"""Inbound batches: validate each event, store the good ones raw, keep the bad ones as dead letters.

This runs inside the HTTP request, so it only stores; applying events happens in a job.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from companion.bulk import among, insert_rows
from companion.db import write_transaction
from companion.models import DeadLetter, RawEvent, Site, utcnow
from companion.models.base import to_naive_utc
from companion.schemas.events import event_schema


@dataclass
class BatchResult:
    accepted_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.accepted_ids)

    def as_answer(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


@dataclass
class _Valid:
    index: int
    raw: dict[str, Any]
    event: dict[str, Any]


def _validate(events: list[Any]) -> tuple[list[_Valid], list[dict[str, Any]]]:
    valid, rejected = [], []
    for index, raw in enumerate(events):
        if not isinstance(raw, dict):
            rejected.append({"index": index, "id": None, "fields": {"_schema": ["Each event must be a JSON object."]}})
            continue
        try:
            valid.append(_Valid(index, raw, event_schema.load(raw)))
        except ValidationError as exc:
            event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
            rejected.append({"index": index, "id": event_id, "fields": exc.messages})
    return valid, rejected


def store_batch(site: Site, events: list[Any]) -> BatchResult:
    """Store the valid events of a batch (once per id) and the invalid ones as dead letters."""
    valid, rejected = _validate(events)
    result = BatchResult(rejected=rejected)
    with write_transaction():
        if rejected:
            _store_dead_letters(site, events, rejected)
        fresh = _drop_duplicates(site, valid)
        result.duplicates = len(valid) - len(fresh)
        result.accepted_ids = _insert_raw(site, fresh)
    return result


def _drop_duplicates(site: Site, valid: list[_Valid]) -> list[_Valid]:
    ids = list({v.event["id"] for v in valid})
    known = set()
    for chunk in _chunks(ids, 500):
        known.update(r.event_id for r in RawEvent.select(RawEvent.event_id)
                     .where(RawEvent.site == site, among(RawEvent.event_id, chunk)))
    fresh, seen = [], set(known)
    for v in valid:
        if v.event["id"] not in seen:
            seen.add(v.event["id"])
            fresh.append(v)
    return fresh


def _insert_raw(site: Site, fresh: list[_Valid]) -> list[int]:
    if not fresh:
        return []
    now = utcnow()
    rows = [{"site": site.id, "event_id": v.event["id"], "type": v.event["type"],
             "source": v.event["source"], "occurred_at": to_naive_utc(v.event["occurred_at"]),
             "received_at": now, "payload": json.dumps(v.raw, separators=(",", ":"))} for v in fresh]
    insert_rows(RawEvent, rows, ignore_conflicts=True)
    ids: list[int] = []
    for chunk in _chunks([v.event["id"] for v in fresh], 500):
        ids.extend(r.id for r in RawEvent.select(RawEvent.id)
                   .where(RawEvent.site == site, among(RawEvent.event_id, chunk)))
    return sorted(ids)


def _store_dead_letters(site: Site, events: list[Any], rejected: list[dict[str, Any]]) -> None:
    rows = [{"site": site.id, "stage": "validation", "event_id": str(r["id"])[:200] if r["id"] else None,
             "batch_index": r["index"], "payload": json.dumps(events[r["index"]], default=str),
             "reason": json.dumps(r["fields"])} for r in rejected]
    DeadLetter.insert_many(rows).execute()


def store_unreadable(site: Site, body: bytes, reason: str) -> None:
    """A signed body that is not a usable batch is still kept, so nothing the store sent is lost."""
    DeadLetter.create(site=site, stage="validation", payload=body.decode("utf-8", "replace")[:1_000_000],
                      reason=json.dumps({"_schema": [reason]}))


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
