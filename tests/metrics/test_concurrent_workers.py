"""Two workers changing one order at the same time leave the roll-ups equal to a rebuild."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from companion import pipeline
from companion.core.db import database
from companion.metrics.rebuild import rebuild_site
from companion.models import Order, RawEvent, Refund, Site, utcnow
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import picture


def _stored_id(event: dict[str, Any]) -> int:
    return RawEvent.get(RawEvent.event_id == event["id"]).id


@pytest.fixture
def paused_first_worker(monkeypatch: pytest.MonkeyPatch) -> Any:
    """An AFTER_APPLY step that holds the worker named 'first' inside its transaction."""
    paused, release = threading.Event(), threading.Event()

    def hold(batch: Any) -> None:
        if threading.current_thread().name == "first":
            paused.set()
            release.wait(10)

    monkeypatch.setattr(pipeline, "AFTER_APPLY", [*pipeline.AFTER_APPLY, hold])
    return paused, release


def _worker(name: str, event_id: int | list[int], errors: list[BaseException]) -> threading.Thread:
    ids = event_id if isinstance(event_id, list) else [event_id]

    def run() -> None:
        try:
            with database.connection_context():
                pipeline.process_events(ids, utcnow())  # as the job would
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    return threading.Thread(target=run, name=name)


def test_a_status_change_and_a_newer_snapshot_processed_together_add_up(
    client: Any, site: Any, paused_first_worker: Any
) -> None:
    paused, release = paused_first_worker
    post_events(client, site, [f.order(1, total="10.00")])
    run_jobs()
    cancel = f.order(1, status="cancelled", total="10.00", modified="2026-11-20T11:00:00Z")
    newer = f.order(1, status="completed", total="30.00", modified="2026-11-20T12:00:00Z")
    post_events(client, site, [cancel])
    post_events(client, site, [newer])
    errors: list[BaseException] = []
    first, second = (
        _worker("first", _stored_id(cancel), errors),
        _worker("second", _stored_id(newer), errors),
    )
    first.start()
    assert paused.wait(10)
    second.start()
    time.sleep(0.5)  # the second worker is now waiting for (or racing) the first
    release.set()
    first.join(20)
    second.join(20)
    run_jobs()  # whatever a worker gave up on is applied again, one event at a time
    assert errors == []
    incremental = picture()
    assert [r[3:5] for r in incremental["RollupDaily"]] == [("1", "30.0000")]
    rebuild_site(Site.get_by_id(site.site.id), utcnow())  # as `companion rollups rebuild` would
    assert incremental == picture()


@pytest.mark.parametrize("with_snapshot", [False, True])
@pytest.mark.parametrize("deletion_first", [False, True])
def test_a_refund_and_its_deletion_applied_by_two_workers_at_once_leave_no_refund(
    client: Any, site: Any, paused_first_worker: Any, deletion_first: bool, with_snapshot: bool
) -> None:
    """Issue 17: whichever worker holds its transaction open, the refund ends deleted (a refund
    inserted and a tombstone inserted by two transactions that cannot see each other). With the
    order's snapshot in the deleting batch (as the plugin sends it) that worker locks the order
    first: a deadlock, if any, is retried."""
    paused, release = paused_first_worker
    post_events(client, site, [f.order(1, total="10.00")])
    run_jobs()
    refund = f.refund(1, 9, "4.00", email=None)
    deletion = f.refund_deleted(1, 9, email=None)
    snapshot = f.order(1, total="10.00", modified="2026-11-23T10:00:00Z")
    post_events(client, site, [refund])
    post_events(client, site, [snapshot, deletion] if with_snapshot else [deletion])
    deleting = [_stored_id(deletion)]
    if with_snapshot:
        deleting.insert(0, _stored_id(snapshot))
    order: list[Any] = [deleting, _stored_id(refund)]
    if not deletion_first:
        order.reverse()
    errors: list[BaseException] = []
    first, second = _worker("first", order[0], errors), _worker("second", order[1], errors)
    first.start()
    assert paused.wait(10)
    second.start()
    time.sleep(0.5)  # the second worker is now waiting for (or racing) the first
    release.set()
    first.join(20)
    second.join(20)
    run_jobs()
    assert errors == []
    assert list(Refund.select()) == []
    assert Order.get(Order.external_id == "1").refunded_total == 0
    incremental = picture()
    assert [r[3:6] for r in incremental["RollupDaily"]] == [("1", "10.0000", "0.0000")]
    rebuild_site(Site.get_by_id(site.site.id), utcnow())
    assert incremental == picture()
