"""Two workers changing one session's visit, or its visit and its order, at the same time leave the
sessions roll-up equal to a rebuild (it adds each batch's difference: issue 19)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from companion.metrics.rebuild import rebuild_site
from companion.models import Site, Visit, utcnow
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import picture
from tests.metrics.test_concurrent_workers import _stored_id, _worker, paused_first_worker

__all__ = ["paused_first_worker"]  # the fixture, used by name


def _race(
    paused_first_worker: Any, first_event: dict[str, Any], second_event: dict[str, Any]
) -> None:
    paused, release = paused_first_worker
    errors: list[BaseException] = []
    first = _worker("first", _stored_id(first_event), errors)
    second = _worker("second", _stored_id(second_event), errors)
    first.start()
    assert paused.wait(10)
    second.start()
    time.sleep(0.5)  # the second worker is now waiting for (or racing) the first
    release.set()
    first.join(20)
    second.join(20)
    run_jobs()  # whatever a worker gave up on is applied again
    assert errors == []


def _sessions() -> list[tuple[str, ...]]:
    return [r[1:] for r in picture()["RollupSessions"]]


def test_two_workers_extending_one_visit_count_it_once_on_its_new_day(
    client: Any, site: Any, paused_first_worker: Any
) -> None:
    """The visit starts at 00:10 Berlin on 21 Nov; one worker moves its start to 23:50 on the
    20th while another extends its end. A stale read of the visit would undo the first change in
    the table and count the visit on both days in the roll-up."""
    post_events(client, site, [f.page_view("s1", "2026-11-20T23:10:00Z")])
    run_jobs()
    earlier = f.page_view("s1", "2026-11-20T22:50:00Z")
    later = f.page_view("s1", "2026-11-20T23:30:00Z")
    post_events(client, site, [earlier])
    post_events(client, site, [later])
    _race(paused_first_worker, earlier, later)
    (visit,) = Visit.select()
    assert (visit.page_views, visit.started_at.hour, visit.last_seen_at.minute) == (3, 22, 30)
    incremental = _sessions()
    assert incremental == [("2026-11-20", "1", "0")]
    rebuild_site(Site.get_by_id(site.site.id), utcnow())
    assert incremental == _sessions()


@pytest.mark.parametrize("order_first", [True, False])
def test_an_order_and_a_view_of_its_session_applied_at_once_convert_the_visit(
    client: Any, site: Any, paused_first_worker: Any, order_first: bool
) -> None:
    """The order (23:45) falls inside the visit only once the view at 23:30 extends it (30
    minutes after its last view): whichever worker holds its transaction, the visit is converted."""
    post_events(client, site, [f.page_view("s1", "2026-11-20T23:10:00Z")])  # s1 is Ann's now
    run_jobs()
    view = f.page_view("s1", "2026-11-20T23:30:00Z", email=None)  # no contact row to wait for
    order = f.order(1, created="2026-11-20T23:45:00Z", modified="2026-11-20T23:45:00Z")
    order["session_id"] = "s1"
    post_events(client, site, [view])
    post_events(client, site, [order])
    _race(paused_first_worker, *((order, view) if order_first else (view, order)))
    incremental = _sessions()
    assert incremental == [("2026-11-21", "1", "1")]
    rebuild_site(Site.get_by_id(site.site.id), utcnow())
    assert incremental == _sessions()
