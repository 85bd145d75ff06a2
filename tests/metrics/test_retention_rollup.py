"""Retention read from the customer-day month roll-up (CustomerDayMonth) answers what counting the
customers' orders answers, for periods with and without whole months in the previous period, and
the roll-up stays equal to a rebuild when orders arrive late, are cancelled, deleted, refunded,
their refunds deleted, or their customer is erased."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from companion.core.days import local_day
from companion.metrics import reading
from companion.metrics.periods import Period
from companion.metrics.rebuild import rebuild_site
from companion.migrations.steps import create_customer_day_months
from companion.models import Order, Site, utcnow
from companion.models.rollups import CustomerDayMonth
from companion.privacy import erase_person
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import picture

EMAILS = [f"c{n}@example.com" for n in range(9)]
START = datetime(2025, 8, 20, 6, 0)
SPAN_DAYS = 470  # to early December 2026
# Periods whose previous period has whole months and edge days, only whole months, or none.
PERIODS = [
    (date(2026, 11, 4), date(2026, 12, 3)),
    (date(2026, 10, 1), date(2026, 10, 31)),
    (date(2026, 9, 5), date(2026, 12, 3)),
    (date(2026, 7, 1), date(2026, 12, 31)),
    (date(2025, 12, 4), date(2026, 12, 3)),
    (date(2026, 3, 1), date(2026, 3, 1)),
    (date(2026, 6, 16), date(2026, 8, 15)),
    (date(2026, 2, 1), date(2026, 3, 31)),
]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stream(seed: int, orders: int = 90) -> list[dict[str, Any]]:
    """Orders over fifteen months (some late, cancelled, deleted, refunded, refunds deleted)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for number in range(1, orders + 1):
        at = START + timedelta(minutes=rng.randrange(0, SPAN_DAYS * 24 * 60))
        email = rng.choice(EMAILS)
        currency = rng.choice(("EUR", "EUR", "USD"))
        times = {"created": _iso(at), "paid": _iso(at), "modified": _iso(at)}
        events.append(f.order(number, email=email, currency=currency, **times))
        later = _iso(at + timedelta(hours=3))
        roll = rng.random()
        if roll < 0.1:
            events.append(
                f.order(
                    number, status="cancelled", email=email, currency=currency,
                    created=_iso(at), paid=_iso(at), modified=later,
                )
            )  # fmt: skip
        elif roll < 0.2:
            events.append(f.event("order.deleted", {"order_id": number}, at=later))
        elif roll < 0.35:
            events.append(f.refund(number, f"{number}-r", "5.00", at=later, email=email))
            if rng.random() < 0.5:
                events.append(f.refund_deleted(number, f"{number}-r", at=later, email=email))
    return events


def _post(client: Any, site: Any, events: list[dict[str, Any]], seed: int) -> None:
    rng = random.Random(seed)
    head = events[: len(events) // 2]
    rng.shuffle(head)  # the first half out of order: late orders move next days back
    events = head + events[len(events) // 2 :]
    while events:
        size = rng.randrange(1, 15)
        chunk, events = events[:size], events[size:]
        assert post_events(client, site, chunk).status_code == 202
        if rng.random() < 0.6:
            run_jobs()
    run_jobs()


def counted_from_orders(site: Site, currency: str, period: Period) -> tuple[int, int]:
    """Retention by its definition: customers with a counted order in the previous period, and
    how many of them have one in this period too."""
    days: dict[int, set[date]] = {}
    for contact, counted_at in (
        Order.select(Order.contact, Order.counted_at)
        .where(
            Order.site == site.id,
            Order.currency == currency,
            Order.is_counted == True,
            Order.deleted_at.is_null(),
            Order.contact.is_null(False),
        )
        .tuples()
    ):
        days.setdefault(contact, set()).add(local_day(counted_at, site.timezone))
    before = period.previous()
    earlier = {c for c, d in days.items() if any(before.contains(x) for x in d)}
    again = {c for c in earlier if any(period.contains(x) for x in days[c])}
    return len(earlier), len(again)


def assert_exact(site: Any) -> list[tuple[int, int]]:
    """Every period's retention equals the count from orders in both currencies; the roll-up's rows
    equal a rebuild's."""
    row = Site.get_by_id(site.site.id)
    answers = []
    for currency in ("EUR", "USD"):
        for first, last in PERIODS:
            period = Period(first, last)
            answer = reading.retention(row, currency, period)
            assert answer == counted_from_orders(row, currency, period), (currency, period)
            answers.append(answer)
    incremental = picture()["CustomerDayMonth"]
    rebuild_site(row, utcnow())  # as `companion rollups rebuild` would
    assert picture()["CustomerDayMonth"] == incremental
    return answers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_retention_from_the_rollup_equals_counting_orders_after_a_random_stream(
    client: Any, site: Any, other_site: Any, seed: int
) -> None:
    _post(client, other_site, _stream(seed + 10, orders=30), seed)  # never counted for `site`
    _post(client, site, _stream(seed), seed)
    assert CustomerDayMonth.select().where(CustomerDayMonth.site == site.site.id).count() > 10
    answers = assert_exact(site)
    assert sum(again for _, again in answers) > 0, "some customers came back in some period"


def test_the_previous_period_is_read_from_whole_months_and_edge_days(client: Any, site: Any):
    """A year ending on the 3rd: its previous year is edge days, eleven whole months, edge days;
    a customer counted in each part."""
    orders = [
        (1, "a@example.com", "2024-12-10T10:00:00Z"),  # head edge (December 4-31)
        (2, "a@example.com", "2025-12-20T10:00:00Z"),
        (3, "b@example.com", "2025-03-15T10:00:00Z"),  # whole month
        (4, "b@example.com", "2026-01-15T10:00:00Z"),
        (5, "c@example.com", "2025-12-02T10:00:00Z"),  # tail edge (December 1-3)
        (6, "d@example.com", "2025-06-01T10:00:00Z"),  # whole month, not back
        (7, "d@example.com", "2025-06-30T21:30:00Z"),  # 23:30 in Berlin: still June
    ]
    events = [f.order(n, email=e, created=at, paid=at, modified=at) for n, e, at in orders]
    assert post_events(client, site, events).status_code == 202
    run_jobs()
    row = Site.get_by_id(site.site.id)
    assert reading.retention(row, "EUR", Period(date(2025, 12, 4), date(2026, 12, 3))) == (4, 2)
    assert CustomerDayMonth.select().where(CustomerDayMonth.month == "2025-06").count() == 2


def test_erasing_a_customer_keeps_retention_and_the_rollup_as_a_rebuild_has_them(
    client: Any, site: Any, settings: Any
) -> None:
    _post(client, site, _stream(4), 4)
    before = assert_exact(site)
    erase_person(site.site.id, EMAILS[0], settings.secret_key, utcnow())
    assert assert_exact(site) == before  # orders stay, anonymised


def test_migration_39_fills_the_rollup_of_an_existing_store_as_ingestion_keeps_it(
    client: Any, site: Any, db: Any
) -> None:
    _post(client, site, _stream(5), 5)
    kept = picture()
    assert kept["CustomerDayMonth"]
    CustomerDayMonth.delete().execute()  # a store from before the roll-up
    create_customer_day_months(db)
    assert picture() == kept
