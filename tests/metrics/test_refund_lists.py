"""The history sync lists each order's refunds (`order.refunds_listed`): a refund the service holds
that the store no longer has (deleted before the plugin sent `order.refund_deleted`) stops counting
when the history is synced again, as if the deletion had come. A refund made after the list, or just
before it, is not judged by it; other orders and other sites are untouched."""

from __future__ import annotations

from typing import Any

import pytest

from companion.ingest.refund_lists import MARGIN
from companion.models import DeletedRefund, Order
from companion.sites import create_site
from tests import factories as f
from tests.helpers import post_events
from tests.metrics.test_refund_deleted import (
    _deliver,
    _orders,
    _same_as_rebuild,
    _state,
    _without_sites,
)


@pytest.fixture
def never_refunded(client: Any, site: Any) -> dict[str, Any]:
    other = create_site("Twin", "https://twin.example", timezone="Europe/Berlin", currency="EUR")
    _deliver(client, other, _orders())
    return _state(client, other)


def test_a_refund_the_list_leaves_out_stops_counting(
    client: Any, site: Any, never_refunded: dict[str, Any]
) -> None:
    _deliver(client, site, _orders(), [f.refund(1, 9, "9.80"), f.refund(2, 10, "20.00")])
    assert _state(client, site)["answers"][0]["metrics"]["refunds"]["value"] == "29.80"
    _deliver(client, site, [f.refunds_listed(1, []), f.refunds_listed(2, [])])
    after = _state(client, site)
    assert after["refunds"] == []
    assert _without_sites(after) == _without_sites(never_refunded)
    # A refund.refunded for it that comes again (the next sync, a retried delivery) stays out.
    _deliver(client, site, [f.refund(1, 9, "9.80")])
    assert _state(client, site)["refunds"] == []
    _same_as_rebuild(site)


def test_a_listed_refund_stays_and_only_the_missing_one_goes(client: Any, site: Any) -> None:
    _deliver(
        client,
        site,
        _orders(),
        [f.refund(1, 9, "9.80"), f.refund(1, 11, "5.00", at="2026-11-24T10:00:00Z")],
        [f.refunds_listed(1, [11]), f.refunds_listed(2, [])],
    )
    state = _state(client, site)
    assert state["refunds"] == ["11"]
    assert state["answers"][0]["metrics"]["refunds"]["value"] == "5.00"
    assert DeletedRefund.select().where(DeletedRefund.site == site.site.id).count() == 1
    _same_as_rebuild(site)


def test_a_list_that_names_every_refund_changes_nothing(client: Any, site: Any) -> None:
    _deliver(client, site, _orders(), [f.refund(1, 9, "9.80"), f.refund(2, 10, "20.00")])
    before = _state(client, site)
    _deliver(client, site, [f.refunds_listed(1, [9]), f.refunds_listed(2, ["10"])])
    assert _state(client, site) == before
    assert DeletedRefund.select().count() == 0


@pytest.mark.parametrize(
    "refunded_at",
    [
        "2026-12-01T10:30:00Z",  # after the list was made: the list arrived late
        "2026-12-01T09:55:00Z",  # within MARGIN before it: maybe not committed when it was read
    ],
)
def test_a_refund_made_after_or_just_before_the_list_is_kept(
    client: Any, site: Any, refunded_at: str
) -> None:
    assert MARGIN.total_seconds() > 5 * 60
    _deliver(client, site, _orders(), [f.refund(1, 12, "3.00", at=refunded_at)])
    _deliver(client, site, [f.refunds_listed(1, [], at="2026-12-01T10:00:00Z")])
    state = _state(client, site)
    assert state["refunds"] == ["12"]
    assert Order.get(Order.site == site.site.id, Order.external_id == "1").refunded_total == 3


def test_an_old_refund_in_the_same_batch_as_a_list_without_it_is_not_kept(
    client: Any, site: Any, never_refunded: dict[str, Any]
) -> None:
    """A delayed `order.refunded` delivered beside the sync's list that leaves it out."""
    _deliver(client, site, _orders(), [f.refund(1, 9, "9.80"), f.refunds_listed(1, [])])
    assert _without_sites(_state(client, site)) == _without_sites(never_refunded)
    _same_as_rebuild(site)


def test_the_newest_list_of_an_order_decides(client: Any, site: Any) -> None:
    """Two syncs in one batch: an old list naming a refund made since, and a newer one."""
    _deliver(
        client,
        site,
        _orders(),
        [f.refund(1, 9, "9.80"), f.refund(1, 11, "5.00", at="2026-11-24T10:00:00Z")],
        [
            f.refunds_listed(1, [9, 11], at="2026-12-02T10:00:00Z"),
            f.refunds_listed(1, [11], at="2026-12-01T10:00:00Z"),
        ],
    )
    assert _state(client, site)["refunds"] == ["11", "9"]


def test_another_sites_refunds_are_untouched(client: Any, site: Any) -> None:
    other_site = create_site("Other", "https://other.example", currency="EUR")
    _deliver(client, site, _orders(), [f.refund(1, 9, "9.80")])
    _deliver(client, other_site, _orders(), [f.refund(1, 9, "9.80")])
    _deliver(client, site, [f.refunds_listed(1, [])])
    assert _state(client, other_site)["refunds"] == ["9"]
    assert _state(client, site)["refunds"] == []


def test_a_list_for_an_order_of_another_store_source_is_its_own(client: Any, site: Any) -> None:
    """Refund ids are per store plugin: an EDD list says nothing of a WooCommerce refund."""
    listed = f.refunds_listed(1, [])
    listed["source"] = "edd"
    _deliver(client, site, _orders(), [f.refund(1, 9, "9.80")], [listed])
    assert _state(client, site)["refunds"] == ["9"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"order_id": 1}, "refund_ids"),
        ({"order_id": 1, "refund_ids": "9"}, "refund_ids"),
        ({"order_id": 1, "refund_ids": [True]}, "refund_ids"),
        ({"refund_ids": []}, "order_id"),
    ],
)
def test_a_malformed_list_is_refused_with_its_field(
    client: Any, site: Any, data: dict[str, Any], field: str
) -> None:
    event = f.refunds_listed(1, [])
    event["data"] = data
    answer = post_events(client, site, [event])
    assert answer.status_code == 422 and answer.json["accepted"] == 0, answer.json
    assert field in answer.json["rejected"][0]["fields"]["data"], answer.json
