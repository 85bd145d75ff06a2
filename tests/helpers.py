"""What tests do over and over: sign and post a batch, run the queued jobs, authorise, list
tables."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from peewee import SqliteDatabase, sort_models

from companion.core.signing import sign
from companion.core.workers import run_burst
from companion.models import BaseModel


def signed_headers(
    secret: str, body: bytes, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "Content-Type": "application/json",
    }


def post_events(
    client: Any, new_site: Any, events: list[dict[str, Any]], secret: str | None = None
) -> Any:
    body = json.dumps({"events": events}).encode()
    return client.post(
        f"/v1/sites/{new_site.site.public_id}/events",
        data=body,
        headers=signed_headers(secret or new_site.secret, body),
    )


def run_jobs() -> None:
    run_burst()


def bearer(new_site: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_site.api_token}"}


def all_models() -> list[Any]:
    """Every table, children first, so rows can be deleted in this order."""
    seen: list[Any] = []

    def walk(cls: Any) -> None:
        for sub in cls.__subclasses__():
            if sub._meta.table_name and sub not in seen and not sub._meta.__dict__.get("abstract"):
                seen.append(sub)
            walk(sub)

    walk(BaseModel)
    return list(reversed(sort_models([m for m in seen if m.__name__ != "SchemaVersion"])))


def is_sqlite(db: Any) -> bool:
    return isinstance(db, SqliteDatabase)
