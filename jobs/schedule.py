"""The one scheduler: it only enqueues, and only while it holds the Redis lock.

A second scheduler waits for the lock; if the holder dies the lock expires and the waiting one
takes over within LOCK_TTL_S seconds.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from redis import Redis
from redis.exceptions import LockError
from redis.lock import Lock

from companion.core import runtime
from jobs import events, flows, intelligence

log = logging.getLogger(__name__)

LOCK_KEY = "companion:scheduler:lock"
HEARTBEAT_KEY = runtime.SCHEDULER_HEARTBEAT_KEY
LOCK_TTL_S = 45
TICK_S = 15

# (name, every N seconds, job function). Flows, intelligence and alerts add their rows here.
SCHEDULE: list[tuple[str, int, Callable[..., Any]]] = [
    ("sweep unprocessed events", 60, events.sweep_unprocessed),
    ("mark abandoned carts", 60, events.mark_abandoned_carts),
    ("flow tick: new enrolments, due steps", 60, flows.tick),
    ("flow scans: win-back, VIP, replenishment", 900, flows.lifecycle_scans),
    ("metrics: recount carts that went idle", 300, events.recount_idle_carts),
    ("intelligence: nightly refresh of every site (after 02:00 UTC)", 3600, intelligence.nightly_refresh),
    ("intelligence: alert scan, new alerts mailed to the owner", 3600, intelligence.scan_alerts),
]


class SchedulerLock:
    """The one-live-scheduler lock: redis-py's Lock (token-checked, atomic Lua for extend and
    release), taken without blocking and renewed on every beat, expiring LOCK_TTL_S after the
    holder's last beat."""

    def __init__(self, redis: Redis, owner: str | None = None) -> None:
        self.redis = redis
        self.lock = Lock(redis, LOCK_KEY, timeout=LOCK_TTL_S, thread_local=False)
        self.token = (owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}").encode()

    def acquire_or_renew(self) -> bool:
        if self.lock.local.token == self.token and self.lock.owned():
            return bool(self.lock.reacquire())
        return bool(self.lock.acquire(blocking=False, token=self.token))

    def release(self) -> None:
        try:
            self.lock.release()
        except LockError:  # expired or taken over meanwhile: nothing of ours to release
            pass


def due_jobs(last_run: dict[str, float], now: float) -> list[tuple[str, Callable[..., Any]]]:
    due = []
    for name, every, func in SCHEDULE:
        if now - last_run.get(name, 0.0) >= every:
            last_run[name] = now
            due.append((name, func))
    return due


def tick(lock: SchedulerLock, last_run: dict[str, float], now: float | None = None) -> list[str]:
    """One scheduler beat: keep the lock, write the heartbeat, enqueue what is due."""
    now = time.time() if now is None else now
    if not lock.acquire_or_renew():
        return []
    lock.redis.set(HEARTBEAT_KEY, str(now), ex=LOCK_TTL_S * 2)
    names = []
    for name, func in due_jobs(last_run, now):
        runtime.enqueue(func)
        names.append(name)
    return names


def run_forever(stop: threading.Event | None = None) -> None:
    """Run APScheduler with one beat every TICK_S seconds until stopped."""
    stop = stop or threading.Event()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per 15 s beat is noise
    lock, last_run = SchedulerLock(runtime.redis_connection()), {}
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(_safe_tick, "interval", seconds=TICK_S, args=[lock, last_run], max_instances=1,
                      coalesce=True, next_run_time=datetime.now(UTC))
    log.info("scheduler started; it waits for the lock while another one runs")
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        lock.release()


def _safe_tick(lock: SchedulerLock, last_run: dict[str, float]) -> None:
    try:
        tick(lock, last_run)
    except Exception:
        log.exception("scheduler tick failed; trying again in %ss", TICK_S)
