"""Inbound batches: validate each event, store the good ones raw, keep the bad ones as dead letters.

This runs inside the HTTP request, so it only stores; applying events happens in a job.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from companion.core.bulk import MAX_ROWS, insert_rows
from companion.core.db import write_transaction
from companion.models import DeadLetter, RawEvent, Site
from companion.models.base import to_naive_utc
from companion.schemas.events import event_schema
from companion.schemas.fastcheck import load_event


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
class PreparedBatch:
    """A batch validated and turned into rows, not yet stored: preparing is CPU work and needs no
    database, so the history import prepares the next page while another process stores."""

    rows: list[dict[str, Any]] = field(
        default_factory=list
    )  # raw_event rows, without site and time
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_payloads: list[str] = field(default_factory=list)


# A cheap first look at the ASCII payload; _is_utf8 decides (a literal "\\ud800" text also matches).
# Every match holds the text \ud, so a payload without it (nearly all) skips the search: 19 µs of
# lookarounds over a 1.5 KB order, against a substring test.
LONE_SURROGATE = re.compile(
    r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)


def _is_utf8(raw: dict[str, Any]) -> bool:
    """Whether every text of the event can be stored: an unpaired surrogate cannot be UTF-8."""
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def prepare_batch(events: list[Any]) -> PreparedBatch:
    """Validate each event; valid ones become raw_event rows, invalid ones a rejection with
    reasons."""
    prepared = PreparedBatch()
    for index, raw in enumerate(events):
        if not isinstance(raw, dict):
            _reject(
                prepared,
                raw,
                {
                    "index": index,
                    "id": None,
                    "fields": {"_schema": ["Each event must be a JSON object."]},
                },
            )
            continue
        if raw.get("data") == []:  # PHP's json_encode writes an empty array() as []: no data
            raw = {**raw, "data": {}}
        try:
            event = load_event(raw) or event_schema.load(
                raw
            )  # the fast path, else marshmallow's answer
        except ValidationError as exc:
            event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
            _reject(prepared, raw, {"index": index, "id": event_id, "fields": exc.messages})
            continue
        payload = json.dumps(
            raw, separators=(",", ":")
        )  # ASCII: an unpaired surrogate shows as \udXXX
        if "\\ud" in payload and LONE_SURROGATE.search(payload) and not _is_utf8(raw):
            _reject(
                prepared,
                raw,
                {
                    "index": index,
                    "id": event["id"],
                    "fields": {
                        "_schema": [
                            "Text holds an unpaired UTF-16 surrogate (\\udXXX): send valid UTF-8."
                        ]
                    },
                },
            )
            continue
        prepared.rows.append(
            {
                "event_id": event["id"],
                "type": event["type"],
                "source": event["source"],
                "occurred_at": to_naive_utc(event["occurred_at"]),
                "payload": payload,
            }
        )
    return prepared


def _reject(prepared: PreparedBatch, raw: Any, rejection: dict[str, Any]) -> None:
    prepared.rejected.append(rejection)
    prepared.rejected_payloads.append(json.dumps(raw, default=str))


def store_batch(site: Site, events: list[Any], received_at: datetime) -> BatchResult:
    """Store the valid events of a batch (once per id) and the invalid ones as dead letters."""
    return store_prepared(site.id, prepare_batch(events), received_at)


def store_prepared(site_id: int, prepared: PreparedBatch, received_at: datetime) -> BatchResult:
    """Store a validated batch as received at `received_at` (the request's or the import's
    clock)."""
    result = BatchResult(rejected=prepared.rejected)
    fresh = _first_of_each(prepared.rows)
    if not prepared.rejected and len(fresh) <= MAX_ROWS:
        # One INSERT statement is atomic by itself: no BEGIN and COMMIT around it, which were two of
        # a delivery's four trips to PostgreSQL (docs/benchmarks.md "Steady load").
        result.accepted_ids = _insert_raw(site_id, fresh, received_at)
    else:
        with write_transaction():
            if prepared.rejected:
                _store_dead_letters(site_id, prepared)
            result.accepted_ids = _insert_raw(site_id, fresh, received_at)
    result.duplicates = len(prepared.rows) - len(result.accepted_ids)
    return result


def _first_of_each(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch without repeats of an event id (the first one stands)."""
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["event_id"], row)
    return list(first.values())


def _insert_raw(site_id: int, fresh: list[dict[str, Any]], received_at: datetime) -> list[int]:
    """Insert the events not stored yet, and answer the ids of exactly those: the unique
    (site, event id) key skips the others inside the statement, so a duplicate costs no read
    first, and of two requests racing with the same event only one gets it to enqueue."""
    inserted = insert_rows(
        RawEvent,
        [{"site": site_id, "received_at": received_at, **row} for row in fresh],
        ignore_conflicts=True,
        returning=("id",),
    )
    return sorted(row[0] for row in inserted)


def _store_dead_letters(site_id: int, prepared: PreparedBatch) -> None:
    rows = [
        {
            "site": site_id,
            "stage": "validation",
            "event_id": str(r["id"])[:200] if r["id"] else None,
            "batch_index": r["index"],
            "payload": payload,
            "reason": json.dumps(r["fields"]),
        }
        for r, payload in zip(prepared.rejected, prepared.rejected_payloads, strict=True)
    ]
    DeadLetter.insert_many(rows).execute()


def store_unreadable(site: Site, body: bytes, reason: str) -> None:
    """A signed body that is not a usable batch is still kept, so nothing the store sent is lost."""
    DeadLetter.create(
        site=site,
        stage="validation",
        payload=body.decode("utf-8", "replace")[:1_000_000],
        reason=json.dumps({"_schema": [reason]}),
    )
