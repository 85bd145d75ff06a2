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
from datetime import UTC, datetime, timedelta
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
TICK_S = 15  # the lock's beat; each SCHEDULE row is its own APScheduler interval job

# (name, every N seconds, job function). Flows, intelligence and alerts add their rows here.
SCHEDULE: list[tuple[str, int, Callable[..., Any]]] = [
    ("sweep unprocessed events", 60, events.sweep_unprocessed),
    ("mark abandoned carts", 60, events.mark_abandoned_carts),
    ("flow tick: new enrolments, due steps", 60, flows.tick),
    ("flow scans: win-back, VIP, replenishment", 900, flows.lifecycle_scans),
    ("metrics: recount carts that went idle", 300, events.recount_idle_carts),
    (
        "intelligence: nightly refresh of every site (after 02:00 UTC)",
        3600,
        intelligence.nightly_refresh,
    ),
    ("intelligence: alert scan, new alerts mailed to the owner", 3600, intelligence.scan_alerts),
    (
        "products: each site's outlook for its new local day",
        900,
        intelligence.prepare_product_outlooks,
    ),
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


def beat(lock: SchedulerLock, now: float) -> bool:
    """Keep (or take) the lock and write the heartbeat /healthz reads; whether this one leads."""
    if not lock.acquire_or_renew():
        return False
    lock.redis.set(HEARTBEAT_KEY, str(now), ex=LOCK_TTL_S * 2)
    return True


def enqueue_if_leading(lock: SchedulerLock, name: str, func: Callable[..., Any]) -> bool:
    """A schedule row fell due: enqueue its job when this scheduler holds the lock."""
    if not lock.lock.owned():
        return False
    runtime.enqueue(func)
    log.debug("enqueued %s", name)
    return True


def build_scheduler(lock: SchedulerLock, now: datetime) -> BackgroundScheduler:
    """APScheduler with the lock's beat every TICK_S seconds and one interval job per SCHEDULE row;
    every row runs once right after the first beat, then at its own interval."""
    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
    )
    scheduler.add_job(
        _guarded(beat),
        "interval",
        seconds=TICK_S,
        args=[lock],
        id="beat",
        next_run_time=now,
        kwargs={"now": None},
    )
    first = now + timedelta(seconds=1)
    for name, every, func in SCHEDULE:
        scheduler.add_job(
            _guarded(enqueue_if_leading),
            "interval",
            seconds=every,
            args=[lock, name, func],
            id=name,
            name=name,
            next_run_time=first,
        )
    return scheduler


def run_forever(stop: threading.Event | None = None) -> None:
    """Run the scheduler until stopped; while another one holds the lock, its jobs enqueue
    nothing."""
    stop = stop or threading.Event()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per beat is noise
    lock = SchedulerLock(runtime.redis_connection())
    scheduler = build_scheduler(lock, datetime.now(UTC))
    log.info("scheduler started; it waits for the lock while another one runs")
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        lock.release()


def _guarded(step: Callable[..., Any]) -> Callable[..., Any]:
    """A failing beat or enqueue is logged; the next one tries again."""

    def run(*args: Any, **kwargs: Any) -> Any:
        if "now" in kwargs and kwargs["now"] is None:
            kwargs["now"] = time.time()
        try:
            return step(*args, **kwargs)
        except Exception:
            log.exception("scheduler step %s failed; it runs again at its next time", step.__name__)
            return None

    run.__name__ = step.__name__
    return run
