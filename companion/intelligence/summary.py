"""Per-customer order summary of one site as of a moment: three GROUP BY queries, numpy arrays out.

Counted orders are `is_counted` and not deleted, dated by `counted_at` (paid, or created); an
as-of moment keeps only orders counted and refunds made by then, so a past refresh sees what was
known at the time. Money comes back as floats of the currency unit, summed exactly in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from peewee import fn

from companion.core.bulk import among
from companion.core.db import unindexed
from companion.ingest.batch import ContactFacts
from companion.ingest.contacts import order_rows, refunds_by_contact
from companion.models import Order, Refund
from companion.models.base import MONEY_SCALE

DAY_S = 86_400.0


@dataclass(frozen=True)
class CustomerSummary:
    as_of: datetime
    contact_id: NDArray[np.int64]
    orders: NDArray[np.float64]
    first_at: NDArray[np.datetime64]  # datetime64[s]
    last_at: NDArray[np.datetime64]
    gross: NDArray[np.float64]  # sum of counted order totals
    refunded: NDArray[np.float64]  # refunds made on them by as_of
    first_gross: NDArray[np.float64]  # total of the first order(s)

    @property
    def size(self) -> int:
        return int(self.contact_id.size)

    def days_before_as_of(self, moments: NDArray[np.datetime64]) -> NDArray[np.float64]:
        return (np.datetime64(self.as_of, "s") - moments).astype(np.float64) / DAY_S

    @property
    def net(self) -> NDArray[np.float64]:
        return self.gross - self.refunded

    @property
    def history_days(self) -> float:
        return float(self.days_before_as_of(self.first_at).max()) if self.size else 0.0


def counted(
    site_id: int, as_of: datetime | None = None, contact_ids: list[int] | None = None
) -> Any:
    """Counted orders of a customer, by `as_of` when given, of `contact_ids` only when given.
    For given contacts the date is no index key: the (site, contact) index finds their orders,
    where SQLite's planner would otherwise walk the site's whole (site, counted_at) range."""
    where = (
        (Order.site == site_id)
        & (Order.is_counted == True)
        & Order.deleted_at.is_null()
        & Order.contact.is_null(False)
    )
    if contact_ids is not None:
        where &= among(Order.contact, contact_ids or [0])
    if as_of is None:
        return where
    return where & (
        (Order.counted_at if contact_ids is None else unindexed(Order.counted_at)) <= as_of
    )


def customer_summary(
    site_id: int, as_of: datetime, contact_ids: list[int] | None = None
) -> CustomerSummary:
    """One row per contact with counted orders by `as_of` (of `contact_ids` only, when given), by
    contact id."""
    where = counted(site_id, as_of, contact_ids)
    rows = order_rows(where)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return CustomerSummary(
        as_of=as_of,
        contact_id=ids,
        orders=np.array([r[1] for r in rows], dtype=np.float64),
        first_at=_moments([r[2] for r in rows]),
        last_at=_moments([r[3] for r in rows]),
        gross=_money([r[4] for r in rows]),
        refunded=_by_contact(ids, _refunds(where, as_of, site_id, contact_ids)),
        first_gross=_money([r[5] for r in rows]),
    )


def _refunds(
    where: Any, as_of: datetime, site_id: int, contact_ids: list[int] | None
) -> list[tuple[int, Any]]:
    if contact_ids is None:  # the whole site: one join
        return list(
            Refund.select(Order.contact, fn.SUM(Refund.amount).coerce(False))
            .join(Order, on=(Refund.order == Order.id))
            .where(where & (Refund.created_at <= as_of))
            .group_by(Order.contact)
            .tuples()
        )
    return [pair[:2] for pair in refunds_by_contact(site_id, contact_ids, as_of)]


def summary_from_facts(
    facts: Mapping[int, ContactFacts | None], contact_ids: list[int], as_of: datetime
) -> CustomerSummary | None:
    """The summary of these contacts (sorted ids) from what refreshing their totals read in this
    pass (`Batch.contact_facts`), which is what `customer_summary` would read again, as long as
    nothing of it is dated after `as_of`. None where it cannot stand in: a contact it did not read,
    or an order counted or a refund made after `as_of` (a shop clock ahead of the worker's)."""
    rows: list[ContactFacts] = []
    ids: list[int] = []
    for contact in contact_ids:
        if contact not in facts:
            return None
        fact = facts[contact]
        if fact is None:  # no counted order: a lead, as in customer_summary
            continue
        if fact.last_at > as_of or (
            fact.last_refund_at is not None and fact.last_refund_at > as_of
        ):
            return None
        ids.append(contact)
        rows.append(fact)
    return CustomerSummary(
        as_of=as_of,
        contact_id=np.array(ids, dtype=np.int64),
        orders=np.array([f.orders for f in rows], dtype=np.float64),
        first_at=np.array([f.first_at for f in rows], dtype="datetime64[s]"),
        last_at=np.array([f.last_at for f in rows], dtype="datetime64[s]"),
        gross=_money([f.gross for f in rows]),
        refunded=_money([f.refunded for f in rows]),
        first_gross=_money([f.first_total for f in rows]),
    )


def _by_contact(ids: NDArray[np.int64], pairs: list[tuple[int, Any]]) -> NDArray[np.float64]:
    values = np.zeros(ids.size)
    if pairs:
        keys = np.array([p[0] for p in pairs], dtype=np.int64)
        values[np.searchsorted(ids, keys)] = _money([p[1] for p in pairs])
    return values


def _money(units: list[Any]) -> NDArray[np.float64]:
    return np.array([int(u or 0) for u in units], dtype=np.float64) / MONEY_SCALE


def _moments(values: list[Any]) -> NDArray[np.datetime64]:
    """SQLite gives text, PostgreSQL and MariaDB datetimes; numpy reads both."""
    if values and isinstance(values[0], str):
        return np.array([v[:19] for v in values], dtype="datetime64[s]")
    return np.array(values, dtype="datetime64[s]")
