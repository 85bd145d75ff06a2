"""Liveness of every moving part: database, Redis, workers, scheduler, queue depth."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

from rq import Worker

from companion.core import runtime
from companion.core.db import database

WORKER_STALE_S = 120
SCHEDULER_STALE_S = 120


def check() -> tuple[bool, dict[str, Any]]:
    report: dict[str, Any] = {"database": _database(), "redis": _redis()}
    if report["redis"]["ok"]:
        report["worker"], report["scheduler"] = _workers(), _scheduler()
        report["queue_depth"] = runtime.queue().count
    else:
        report["worker"] = report["scheduler"] = {"ok": False, "error": "Redis is down"}
        report["queue_depth"] = None
    ok = all(report[k]["ok"] for k in ("database", "redis", "worker", "scheduler"))
    return ok, {"ok": ok, **report}


def _database() -> dict[str, Any]:
    try:
        database.execute_sql("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 -- any failure is "down", reported with its reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _redis() -> dict[str, Any]:
    try:
        runtime.redis_connection().ping()
        return {"ok": True, "embedded": runtime.settings().is_embedded_queue}
    except Exception as exc:  # noqa: BLE001 -- any failure is "down", reported with its reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _workers() -> dict[str, Any]:
    now = time.time()
    beats = [
        _epoch(w.last_heartbeat)
        for w in Worker.all(connection=runtime.redis_connection())
        if w.last_heartbeat is not None
    ]
    fresh = [b for b in beats if now - b < WORKER_STALE_S]
    return {
        "ok": bool(fresh),
        "count": len(fresh),
        "last_heartbeat_age_s": round(now - max(beats), 1) if beats else None,
    }


def _scheduler() -> dict[str, Any]:
    raw = runtime.redis_connection().get(runtime.SCHEDULER_HEARTBEAT_KEY)
    age = time.time() - float(raw) if raw else None
    return {
        "ok": age is not None and age < SCHEDULER_STALE_S,
        "last_heartbeat_age_s": round(age, 1) if age is not None else None,
    }


def _epoch(moment: Any) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
