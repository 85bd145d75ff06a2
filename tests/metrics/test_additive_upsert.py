"""The additive upsert adds to existing roll-up rows on every engine and loses nothing under
concurrent writers."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

from companion.core.db import database
from companion.metrics.upsert import add_rows
from companion.models import RollupDaily

KEYS = ("site", "day", "currency")


def _row(site_id: int, **values: Any) -> dict[str, Any]:
    return {"site": site_id, "day": date(2026, 11, 20), "currency": "EUR", **values}


def test_it_creates_a_missing_row_and_adds_to_an_existing_one(site: Any) -> None:
    add_rows(RollupDaily, KEYS, [_row(site.site.id, orders=1, revenue=Decimal("10.05"))])
    add_rows(
        RollupDaily,
        KEYS,
        [_row(site.site.id, orders=2, revenue=Decimal("-0.05"), refunds=Decimal("1.10"))],
    )
    row = RollupDaily.get()
    assert (row.orders, row.revenue, row.refunds) == (3, Decimal("10.00"), Decimal("1.10"))


def test_rows_with_one_key_in_one_call_are_merged_and_zero_rows_skipped(site: Any) -> None:
    written = add_rows(
        RollupDaily,
        KEYS,
        [
            _row(site.site.id, orders=1),
            _row(site.site.id, orders=-1),
            {**_row(site.site.id, orders=4), "day": date(2026, 11, 21)},
        ],
    )
    assert written == 1
    assert [(r.day, r.orders) for r in RollupDaily.select()] == [(date(2026, 11, 21), 4)]


def test_concurrent_writers_lose_no_update(site: Any) -> None:
    add_rows(RollupDaily, KEYS, [_row(site.site.id, orders=0, revenue=Decimal(1))])
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with database.connection_context():
                for _ in range(20):
                    with database.atomic():
                        add_rows(
                            RollupDaily,
                            KEYS,
                            [_row(site.site.id, orders=1, revenue=Decimal("0.01"))],
                        )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = RollupDaily.get()
    assert (row.orders, row.revenue) == (80, Decimal("1.80"))
