"""A pass that only adds orders on or after each customer's last stored day reads that day alone,
not all of their days (metrics/customers.py `_append`), and leaves the rows a rebuild writes:
customer-days, ledger, cohort months and the retention roll-up, across month and year ends."""

from __future__ import annotations

from typing import Any

import pytest

from companion.metrics import customers
from companion.metrics.periods import month_before
from companion.metrics.rebuild import rebuild_site
from companion.models import Site, utcnow
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import picture


@pytest.fixture
def full_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The contacts whose stored days a pass read in full."""
    read: list[int] = []
    real = customers._stored_days

    def spy(ids: list[int]) -> Any:
        read.extend(ids)
        return real(ids)

    monkeypatch.setattr(customers, "_stored_days", spy)
    return read


def _paid(number: int, day: str, email: str, currency: str = "EUR") -> dict[str, Any]:
    at = f"{day}T12:00:00Z"
    return f.order(number, created=at, paid=at, modified=at, email=email, currency=currency)


def _as_rebuilt(site: Any) -> None:
    kept = picture()
    rebuild_site(Site.get_by_id(site.site.id), utcnow())
    assert picture() == kept


PASSES = [
    # new customers: two orders on one day; two days in one pass; two currencies
    [("2025-11-03", "ann"), ("2025-11-03", "ann"), ("2025-11-05", "bob"), ("2025-12-01", "bob")],
    [("2025-11-20", "cy"), ("2025-11-20", "cy", "USD")],
    # on their last day; the month after (retained); the year's end
    [("2025-11-03", "ann"), ("2025-12-31", "bob"), ("2025-12-02", "cy")],
    [("2026-01-02", "bob"), ("2026-01-02", "ann"), ("2026-03-01", "cy")],
    # several later days in one pass, skipping a month
    [("2026-01-05", "bob"), ("2026-03-09", "bob"), ("2026-04-01", "bob"), ("2026-03-02", "cy")],
]


def test_orders_added_after_each_customers_last_day_leave_the_rows_a_rebuild_writes(
    client: Any, site: Any, full_reads: list[int]
) -> None:
    number = 0
    for orders in PASSES:
        events = []
        for day, who, *currency in orders:
            number += 1
            events.append(_paid(number, day, f"{who}@example.com", *currency))
        assert post_events(client, site, events).status_code == 202
        run_jobs()
        _as_rebuilt(site)
    assert full_reads == []
    assert picture()["CohortMonth"]


def test_an_order_before_the_last_day_reads_that_customers_days(
    client: Any, site: Any, full_reads: list[int]
) -> None:
    assert post_events(client, site, [_paid(1, "2026-02-10", "ann@example.com")]).status_code == 202
    run_jobs()
    late = [_paid(2, "2026-01-10", "ann@example.com"), _paid(3, "2026-02-11", "bob@example.com")]
    assert post_events(client, site, late).status_code == 202
    run_jobs()
    assert len(full_reads) == 1  # Ann's: her new order is before her last day; Bob is new
    _as_rebuilt(site)


def test_the_month_before_crosses_the_year() -> None:
    assert month_before("2026-01") == "2025-12"
    assert month_before("2026-12") == "2026-11"
    assert month_before("2026-02") == "2026-01"
