"""Nothing is lost: a dead worker or a flushed Redis queue is made good by the sweeper."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from rq import Retry

from companion import pipeline
from companion.core import runtime
from companion.core.db import bind_database, write_transaction
from companion.core.settings import Settings
from companion.core.workers import enqueue_due_retries
from companion.ingest import catalog
from companion.models import Contact, DeadLetter, Order, RawEvent, utcnow
from jobs import events as event_jobs
from tests.factories import order, refund
from tests.helpers import is_sqlite, post_events, run_jobs


def _apply_then_hang(url: str, redis_url: str, ids: list[int], started: Any) -> None:
    """A worker that applies the events and dies inside its transaction (killed below)."""
    runtime.configure(Settings(database_url=url, redis_url=redis_url))
    db = bind_database(url)
    with db.connection_context():
        original = pipeline.apply_rows

        def apply_and_hang(*args: Any, **kwargs: Any) -> Any:
            original(*args, **kwargs)
            started.set()
            time.sleep(60)

        pipeline.apply_rows = apply_and_hang
        pipeline.process_events(ids, utcnow())


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
    client, site, settings, db
):
    answer = post_events(client, site, [order(i, email=f"c{i}@example.com") for i in range(50)])
    assert answer.json["accepted"] == 50
    runtime.queue().empty()  # the queue is lost too, as when Redis restarts
    ids = [r.id for r in RawEvent.select(RawEvent.id)]
    db.close()
    context = multiprocessing.get_context("fork")
    started = context.Event()
    worker = context.Process(
        target=_apply_then_hang, args=(settings.database_url, settings.redis_url, ids, started)
    )
    worker.start()
    assert started.wait(30), "the worker never got to apply"
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    db.connect(reuse_if_open=True)
    assert RawEvent.select().where(RawEvent.processed_at.is_null(False)).count() == 0
    assert Order.select().count() == 0 and Contact.select().count() == 0

    later = utcnow() + timedelta(seconds=event_jobs.SWEEP_GRACE_S + 1)
    lost = pipeline.unprocessed_ids(later, event_jobs.SWEEP_GRACE_S)
    assert sorted(lost) == sorted(ids)
    assert pipeline.process_events(lost, now=later) == 50
    assert Order.select().count() == 50 and Contact.select().count() == 50
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0
    assert sum(c.orders_count for c in Contact.select()) == 50


def test_the_sweeper_requeues_events_whose_job_was_lost(client, site, db):
    post_events(client, site, [order(1), order(2)])
    runtime.queue().empty()
    RawEvent.update(received_at=utcnow() - timedelta(minutes=5)).execute()
    assert event_jobs.sweep_unprocessed() == 2
    run_jobs()
    assert Order.select().count() == 2
    assert event_jobs.sweep_unprocessed() == 0


def test_running_the_same_job_twice_applies_each_event_once(client, site, db):
    post_events(client, site, [order(1), refund(1, 9, "5.00")])
    ids = [r.id for r in RawEvent.select()]
    assert pipeline.process_events(ids, utcnow()) == 2
    assert pipeline.process_events(ids, utcnow()) == 0
    assert Contact.get().refunded == Decimal("5.00") and Contact.get().orders_count == 1


def test_a_second_worker_never_applies_events_another_worker_holds(client, site, db):
    """PostgreSQL and MariaDB skip the held rows; SQLite's second writer waits for the first."""
    post_events(client, site, [order(1)])
    ids = [r.id for r in RawEvent.select()]
    holding, release, results = threading.Event(), threading.Event(), []

    def first_worker() -> None:
        with db.connection_context(), write_transaction():
            assert len(pipeline.take(ids)) == 1
            holding.set()
            release.wait(30)

    def second_worker() -> None:
        with db.connection_context():
            results.append(pipeline.process_events(ids, utcnow()))

    first = threading.Thread(target=first_worker)
    first.start()
    assert holding.wait(30)
    second = threading.Thread(target=second_worker)
    second.start()
    second.join(1.0)
    assert Order.select().count() == 0
    assert results == ([] if is_sqlite(db) else [0])
    release.set()
    first.join()
    second.join()
    assert pipeline.process_events(ids, utcnow()) + sum(results) == 1
    assert Order.select().count() == 1


def test_an_event_that_cannot_be_applied_becomes_a_dead_letter_and_the_rest_go_through(
    client, site, db, monkeypatch
):
    post_events(client, site, [order(1)])
    post_events(client, site, [order(2)])
    original = catalog.apply_products

    def explode_on_order_2(batch):
        if any(e.type == "order.updated" and e.data["id"] == "2" for e in batch.events):
            raise RuntimeError("boom")
        original(batch)

    patched = [explode_on_order_2 if step is original else step for step in pipeline.APPLIERS]
    monkeypatch.setattr(pipeline, "APPLIERS", patched)
    ids = [r.id for r in RawEvent.select()]
    assert pipeline.process_events(ids, utcnow()) == 1
    assert [o.external_id for o in Order.select()] == ["1"]
    letter = DeadLetter.get()
    assert letter.stage == "processing" and "boom" in letter.reason


def flaky_process_events(ids: list[int]) -> int:
    """Fails on its first run, as a job does when the database blips."""
    if runtime.redis_connection().incr("test:flaky-calls") == 1:
        raise RuntimeError("database went away")
    return event_jobs.process_events(ids)


def test_a_failed_job_comes_back_when_its_retry_is_due(client, site, db):
    post_events(client, site, [order(1)])
    runtime.queue().empty()
    ids = [r.id for r in RawEvent.select()]
    runtime.queue().enqueue(flaky_process_events, ids, retry=Retry(max=2, interval=1))
    run_jobs()
    assert Order.select().count() == 0 and runtime.queue().scheduled_job_registry.count == 1
    time.sleep(1.5)
    assert enqueue_due_retries() == 1
    run_jobs()
    assert (
        Order.select().count() == 1 and int(runtime.redis_connection().get("test:flaky-calls")) == 2
    )
