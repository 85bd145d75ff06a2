"""Roll-ups kept by ingestion equal a rebuild from raw data, whatever order events arrive in."""

from __future__ import annotations

import random
from typing import Any

import pytest

from companion.metrics.rebuild import rebuild_site
from companion.migrations.steps import create_product_outlook
from companion.models import Site, utcnow
from companion.models.rollups import RollupDimensionMonth
from companion.sites import create_site
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import picture, random_stream


@pytest.fixture
def ny_site(db: Any) -> Any:
    return create_site("NY", "https://ny.example", timezone="America/New_York", currency="EUR")


def _post_in_random_batches(
    client: Any, site: Any, events: list[dict[str, Any]], seed: int
) -> None:
    rng = random.Random(seed)
    while events:
        size = rng.randrange(1, 12)
        chunk, events = events[:size], events[size:]
        answer = post_events(client, site, chunk)
        assert answer.status_code == 202, answer.json
        if rng.random() < 0.6:
            run_jobs()
    run_jobs()


def _rebuilt(site: Any) -> dict[str, Any]:
    rebuild_site(Site.get_by_id(site.site.id), utcnow())  # as `companion rollups rebuild` would
    return picture()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_incremental_rollups_equal_a_rebuild_after_a_random_stream(
    client: Any, ny_site: Any, seed: int
) -> None:
    _post_in_random_batches(client, ny_site, random_stream(seed), seed)
    incremental = picture()
    assert incremental["RollupDaily"], "the stream produced counted orders"
    assert incremental == _rebuilt(ny_site)


def test_a_refund_before_its_order_and_a_status_changed_twice_end_as_a_rebuild(
    client: Any, ny_site: Any
) -> None:
    post_events(client, ny_site, [f.refund(5, 1, "4.00", at="2026-11-22T03:00:00Z")])
    run_jobs()
    post_events(
        client, ny_site, [f.order(5, status="on_hold", paid=None, modified="2026-11-20T10:00:00Z")]
    )
    run_jobs()
    post_events(
        client,
        ny_site,
        [
            f.order(5, status="processing", modified="2026-11-20T12:00:00Z"),
            f.order(5, status="cancelled", modified="2026-11-20T11:00:00Z"),
        ],
    )
    run_jobs()
    post_events(
        client, ny_site, [f.order(5, status="cancelled", modified="2026-11-20T11:30:00Z")]
    )  # late, older
    run_jobs()
    incremental = picture()
    assert [r[3:6] for r in incremental["RollupDaily"]] == [
        ("1", "59.8000", "0.0000"),
        ("0", "0.0000", "4.0000"),
    ]
    assert incremental == _rebuilt(ny_site)


def test_rebuilding_twice_gives_the_same_rollups(client: Any, ny_site: Any) -> None:
    _post_in_random_batches(client, ny_site, random_stream(9, orders=10), 9)
    assert _rebuilt(ny_site) == _rebuilt(ny_site)


def test_migration_36_fills_the_month_rollup_of_an_existing_store(client, ny_site, db):
    _post_in_random_batches(client, ny_site, random_stream(5), 5)
    kept = picture()
    assert kept["RollupDimensionMonth"]
    RollupDimensionMonth.delete().execute()  # a store from before the month roll-up
    create_product_outlook(db)
    assert picture() == kept
