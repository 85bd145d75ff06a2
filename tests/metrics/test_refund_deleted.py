"""A refund the store deleted (`order.refund_deleted`, issue 17) stops counting: metrics, roll-ups,
the order's and the contact's refunded sums end as if it had never been made, in any order of
arrival, once per refund, and only on the site that sent it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from companion.metrics.rebuild import rebuild_site
from companion.models import Contact, Order, Refund, Site, utcnow
from companion.sites import create_site
from tests import factories as f
from tests.helpers import bearer, post_events, run_jobs
from tests.metrics.streams import picture

METRICS = "/v1/sites/{id}/metrics?from=2026-11-01&to=2026-11-30"
BREAKDOWN = "/v1/sites/{id}/metrics/breakdown?by=product&from=2026-11-01&to=2026-11-30"


def _orders() -> list[dict[str, Any]]:
    return [
        f.order(1, total="59.80"),
        f.order(
            2,
            total="20.00",
            email="bob@example.com",
            paid="2026-11-21T10:00:00Z",
            created="2026-11-21T09:00:00Z",
            modified="2026-11-21T10:00:00Z",
        ),
    ]


def _deliver(client: Any, site: Any, *batches: list[dict[str, Any]]) -> None:
    for events in batches:
        answer = post_events(client, site, events)
        assert answer.status_code == 202, answer.json
        assert not answer.json["rejected"], answer.json
        run_jobs()


def _state(client: Any, site: Any) -> dict[str, Any]:
    """What an owner and the roll-ups see: metrics and breakdown answers, every roll-up row, the
    orders' and contacts' refunded sums, the refund rows."""
    answers = [
        client.get(p.replace("{id}", site.site.public_id), headers=bearer(site)).json
        for p in (METRICS, BREAKDOWN)
    ]
    answers[0].pop("generated_at", None)
    return {
        "answers": answers,
        "rollups": {
            name: [r for r in rows if r[0] == str(site.site.id)] for name, rows in picture().items()
        },
        "orders": sorted(
            (o.external_id, str(o.refunded_total))
            for o in Order.select().where(Order.site == site.site.id)
        ),
        "contacts": sorted(
            (c.email, str(c.refunded)) for c in Contact.select().where(Contact.site == site.site.id)
        ),
        "refunds": sorted(
            r.external_id for r in Refund.select().where(Refund.site == site.site.id)
        ),
    }


@pytest.fixture
def never_refunded(client: Any, site: Any) -> dict[str, Any]:
    """The state of a twin shop that got the same two orders and no refund."""
    other = create_site("Twin", "https://twin.example", timezone="Europe/Berlin", currency="EUR")
    _deliver(client, other, _orders())
    return _state(client, other)


def _same_as_rebuild(site: Any) -> None:
    incremental = picture()
    rebuild_site(Site.get_by_id(site.site.id), utcnow())
    assert picture() == incremental


def test_a_refund_then_its_deletion_counts_as_never_refunded(
    client: Any, site: Any, never_refunded: dict[str, Any]
) -> None:
    _deliver(client, site, _orders(), [f.refund(1, 9, "9.80"), f.refund(2, 10, "20.00")])
    refunded = _state(client, site)
    assert refunded["answers"][0]["metrics"]["refunds"]["value"] == "29.80"
    _deliver(client, site, [f.refund_deleted(1, 9), f.refund_deleted(2, 10)])
    after = _state(client, site)
    assert after["answers"][0]["metrics"]["refunds"]["value"] == "0.00"
    assert after["answers"][0]["metrics"]["net_revenue"]["value"] == "79.80"
    assert [Decimal(o[1]) for o in after["orders"]] == [0, 0]
    assert [Decimal(c[1]) for c in after["contacts"]] == [0, 0]
    assert after["refunds"] == []
    assert _without_sites(after) == _without_sites(never_refunded)
    _same_as_rebuild(site)


def _without_sites(state: dict[str, Any]) -> dict[str, Any]:
    """The state without the site-specific columns of the roll-ups (site id, contact ids)."""
    return {
        "answers": state["answers"],
        "orders": state["orders"],
        "contacts": state["contacts"],
        "refunds": state["refunds"],
        "daily": [r[1:] for r in state["rollups"]["RollupDaily"]],
        "dimensions": [r[1:] for r in state["rollups"]["RollupDimension"]],
        "months": [r[1:] for r in state["rollups"]["RollupDimensionMonth"]],
    }


def test_one_refund_of_two_deleted_leaves_the_other_counted(client: Any, site: Any) -> None:
    _deliver(
        client,
        site,
        _orders(),
        [f.refund(1, 9, "9.80"), f.refund(1, 11, "5.00", at="2026-11-24T10:00:00Z")],
        [f.refund_deleted(1, 9)],
    )
    state = _state(client, site)
    assert state["answers"][0]["metrics"]["refunds"]["value"] == "5.00"
    assert Order.get(Order.external_id == "1").refunded_total == Decimal("5.00")
    assert Contact.get(Contact.email == "ann@example.com").refunded == Decimal("5.00")
    assert state["refunds"] == ["11"]
    _same_as_rebuild(site)


def test_a_repeated_deletion_and_a_deletion_of_an_unknown_refund_change_nothing(
    client: Any, site: Any
) -> None:
    _deliver(
        client,
        site,
        _orders(),
        [f.refund(1, 9, "9.80"), f.refund(1, 11, "5.00")],
        [f.refund_deleted(1, 9)],
    )
    once = _state(client, site)
    _deliver(
        client,
        site,
        [f.refund_deleted(1, 9)],
        [f.refund_deleted(1, 9), f.refund_deleted(1, 9), f.refund_deleted(2, 404)],
    )
    assert _state(client, site) == once
    _same_as_rebuild(site)


@pytest.mark.parametrize("together", [True, False])
def test_a_deletion_before_its_refund_leaves_it_uncounted(
    client: Any, site: Any, never_refunded: dict[str, Any], together: bool
) -> None:
    """Out of order: within one batch, or the deletion a batch before the refund (a retried
    delivery, a history sync sending the refund again)."""
    late_refunds = [f.refund(1, 9, "9.80"), f.refund(2, 10, "20.00")]
    deletions = [f.refund_deleted(2, 10), f.refund_deleted(1, 9)]
    if together:
        _deliver(client, site, _orders(), deletions + late_refunds)
    else:
        _deliver(client, site, _orders(), deletions, late_refunds)
    after = _state(client, site)
    assert after["refunds"] == []
    assert _without_sites(after) == _without_sites(never_refunded)
    _same_as_rebuild(site)


def test_a_deletion_before_the_order_and_its_refund(
    client: Any, site: Any, never_refunded: dict[str, Any]
) -> None:
    _deliver(client, site, [f.refund_deleted(1, 9)], [f.refund(1, 9, "9.80")], _orders())
    assert _without_sites(_state(client, site)) == _without_sites(never_refunded)
    _same_as_rebuild(site)


def test_another_sites_refund_with_the_same_id_stays_counted(client: Any, site: Any) -> None:
    other_site = create_site("Other", "https://other.example", currency="EUR")
    _deliver(client, site, _orders(), [f.refund(1, 9, "9.80")])
    _deliver(client, other_site, _orders(), [f.refund(1, 9, "9.80")])
    _deliver(client, site, [f.refund_deleted(1, 9)])
    other = _state(client, other_site)
    assert other["refunds"] == ["9"]
    assert other["answers"][0]["metrics"]["refunds"]["value"] == "9.80"
    assert Contact.get(
        Contact.site == other_site.site.id, Contact.email == "ann@example.com"
    ).refunded == Decimal("9.80")
    assert _state(client, site)["refunds"] == []
