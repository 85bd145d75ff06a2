"""Many small deliveries, one pass: a site's stored events are applied together by one job, with
the results a job per delivery gives, exactly once under two workers, and nothing lost when a worker
dies mid-pass (docs/benchmarks.md "Steady load")."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
from datetime import timedelta
from typing import Any

from companion import pipeline
from companion.core import runtime
from companion.core.db import bind_database
from companion.core.settings import Settings
from companion.models import (
    Cart,
    Contact,
    CustomerLedger,
    CustomerOrderDay,
    Order,
    RawEvent,
    RollupCarts,
    RollupDaily,
    RollupDimension,
    RollupSessions,
    utcnow,
)
from companion.sites import create_site
from jobs import events as event_jobs
from tests.factories import order
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import KEY_COLUMNS, random_stream

ROLLUPS = (
    RollupDaily,
    RollupDimension,
    RollupSessions,
    RollupCarts,
    CustomerLedger,
    CustomerOrderDay,
)


def _jobs_for(site_id: int) -> int:
    return sum(
        1
        for job in runtime.queue().get_jobs()
        if job.func_name == "jobs.events.apply_site" and job.args == (site_id,)
    )


def _state(site_id: int) -> dict[str, Any]:
    """What applying left for one site, without ids: orders, contacts, carts and roll-ups."""
    contacts = {c.id: c.email for c in Contact.select().where(Contact.site == site_id)}
    picture: dict[str, Any] = {
        "orders": sorted(
            (
                o.external_id,
                o.status,
                str(o.total),
                str(o.refunded_total),
                o.is_counted,
                str(o.counted_at),
                str(o.paid_at),
                contacts.get(o.contact_id),
                o.deleted_at is None,
            )
            for o in Order.select().where(Order.site == site_id)
        ),
        "contacts": sorted(
            (c.email, c.orders_count, str(c.total_spent), str(c.refunded))
            for c in Contact.select().where(Contact.site == site_id)
        ),
        "carts": sorted(
            (c.token, c.status, str(c.value), c.converted_order_id is None)
            for c in Cart.select().where(Cart.site == site_id)
        ),
    }
    for model in ROLLUPS:
        names = [n for n in model._meta.sorted_field_names if n not in ("id", "site", "contact")]
        rows = model.select(*[getattr(model, n) for n in names]).where(model.site == site_id)
        picture[model.__name__] = sorted(
            tuple(str(v) for v in row)
            for row in rows.tuples()
            if any(  # all-zero rows are what a change and its undoing leave
                str(v) not in ("0", "0.0000")
                for name, v in zip(names, row, strict=True)
                if name not in KEY_COLUMNS
            )
        )
    return picture


def test_many_small_deliveries_are_applied_in_one_pass_as_a_job_per_delivery_would(client, db):
    """Two sites get the same deliveries: one site's are applied a delivery at a time, as before;
    the other's wait and are applied by the one job their deliveries enqueued."""
    one = create_site("One pass", "https://a.example", timezone="America/New_York")
    each = create_site("Each delivery", "https://b.example", timezone="America/New_York")
    # As a store sends them: in the order they happened (refunds may still come before their order,
    # and several snapshots of one order may share a delivery).
    events = sorted(random_stream(19, orders=40), key=lambda e: e["occurred_at"])
    rng, deliveries = random.Random(19), 0
    while events:
        size = rng.choice((1, 1, 2, 3, 5, 8))
        chunk, events = events[:size], events[size:]
        assert post_events(client, one, chunk).status_code == 202
        assert post_events(client, each, chunk).status_code == 202
        waiting = RawEvent.select(RawEvent.id).where(
            RawEvent.site == each.site.id, RawEvent.processed_at.is_null()
        )
        pipeline.process_events([r.id for r in waiting], utcnow())
        deliveries += 1
    assert deliveries > 30
    assert _jobs_for(one.site.id) == 1  # was a job per delivery
    stored = RawEvent.select().where(RawEvent.site == one.site.id).count()
    assert stored > 100

    assert event_jobs.apply_site(one.site.id) == stored  # one pass, all of them
    assert event_jobs.apply_site(one.site.id) == 0  # a repeat finds nothing
    run_jobs()
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0
    assert _state(one.site.id)["RollupDaily"], "the stream counted orders"
    assert _state(one.site.id) == _state(each.site.id)


def test_a_late_delivery_after_a_pass_started_gets_a_pass_of_its_own(client, site, db):
    post_events(client, site, [order(1)])
    assert _jobs_for(site.site.id) == 1
    post_events(client, site, [order(2)])
    assert _jobs_for(site.site.id) == 1  # joined the waiting pass
    runtime.queue().empty()
    event_jobs.apply_site(site.site.id)  # the pass took both; its pending mark is gone
    post_events(client, site, [order(3)])
    assert _jobs_for(site.site.id) == 1
    run_jobs()
    assert sorted(o.external_id for o in Order.select()) == ["1", "2", "3"]


def test_two_workers_racing_over_one_site_apply_every_event_once(client, site, db, monkeypatch):
    monkeypatch.setattr(pipeline, "PASS_LIMIT", 7)
    for n in range(60):
        post_events(client, site, [order(n, email=f"c{n % 25}@example.com", total="10.00")])
    runtime.queue().empty()
    applied: list[int] = []

    def worker() -> None:
        with db.connection_context():
            while RawEvent.select().where(RawEvent.processed_at.is_null()).exists():
                applied.append(event_jobs.apply_site(site.site.id))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(applied) == 60 and max(applied) == 7
    assert Order.select().count() == 60
    assert sorted(c.orders_count for c in Contact.select()) == [2] * 15 + [3] * 10
    assert sum(c.total_spent for c in Contact.select()) == 600
    run_jobs()
    assert RawEvent.select().where(RawEvent.processed_at.is_null(False)).count() == 60


def test_a_full_pass_enqueues_the_next_one_before_applying(client, site, db, monkeypatch):
    monkeypatch.setattr(pipeline, "PASS_LIMIT", 7)
    post_events(client, site, [order(n, email=f"c{n}@example.com") for n in range(10)])
    runtime.queue().empty()
    enqueued_while_taking = []
    original = pipeline.apply_rows

    def look(*args: Any, **kwargs: Any) -> Any:
        enqueued_while_taking.append(_jobs_for(site.site.id))
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "apply_rows", look)
    assert event_jobs.apply_site(site.site.id) == 7
    assert enqueued_while_taking == [1]  # another worker could take the other 3 meanwhile
    run_jobs()
    assert Order.select().count() == 10 and _jobs_for(site.site.id) == 0


def _pass_then_hang(url: str, redis_url: str, site_id: int, started: Any) -> None:
    """A worker that runs a site's pass and dies inside its transaction (killed below)."""
    runtime.configure(Settings(database_url=url, redis_url=redis_url))
    db = bind_database(url)
    with db.connection_context():
        original = pipeline.apply_rows

        def apply_and_hang(*args: Any, **kwargs: Any) -> Any:
            original(*args, **kwargs)
            started.set()
            time.sleep(60)

        pipeline.apply_rows = apply_and_hang
        event_jobs.apply_site(site_id)


def test_a_worker_killed_mid_pass_loses_nothing_and_the_next_delivery_applies_its_events(
    client, site, settings, db
):
    for n in range(10):
        post_events(
            client, site, [order(n, email=f"c{n}@example.com") for n in range(5 * n, 5 * n + 5)]
        )
    runtime.queue().empty()  # the job was taken by the worker killed below
    db.close()
    context = multiprocessing.get_context("fork")
    started = context.Event()
    worker = context.Process(
        target=_pass_then_hang,
        args=(settings.database_url, settings.redis_url, site.site.id, started),
    )
    worker.start()
    assert started.wait(30), "the worker never got to apply"
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    db.connect(reuse_if_open=True)
    assert Order.select().count() == 0 and Contact.select().count() == 0

    post_events(client, site, [order(50, email="c50@example.com")])  # the mark went with the pass
    assert _jobs_for(site.site.id) == 1
    run_jobs()
    assert Order.select().count() == 51 and Contact.select().count() == 51
    assert sum(c.orders_count for c in Contact.select()) == 51
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0


def test_the_sweeper_enqueues_a_pass_even_when_a_stale_mark_says_one_is_waiting(
    client, site, other_site, db
):
    post_events(client, site, [order(1)])
    post_events(client, other_site, [order(2), order(3, email="bo@example.com")])
    runtime.queue().empty()  # lost with its jobs; the marks stayed
    post_events(client, site, [order(4)])
    assert _jobs_for(site.site.id) == 0  # the stale mark stands for a job that is gone
    RawEvent.update(received_at=utcnow() - timedelta(minutes=5)).execute()
    assert event_jobs.sweep_unprocessed() == 4
    assert _jobs_for(site.site.id) == 1 and _jobs_for(other_site.site.id) == 1
    run_jobs()
    assert Order.select().count() == 4
    assert event_jobs.sweep_unprocessed() == 0
