"""Per-customer facts the customer metrics need, kept per currency for touched contacts.

CustomerLedger: first and second counted order day (new customers, repeat customers, cohorts).
CustomerOrderDay: each day with a counted order and the next such day (retention between any
two adjacent periods is then one indexed count); CustomerDayMonth counts them per month of the day
and next day, by deltas of each row written here (retention over a year reads that). The daily
new_customers / new_repeaters columns of RollupDaily follow the ledger by deltas.

A pass gives the order rows it changed, as they were and as they are (`apply_order_changes`): a
customer's days are their stored customer-days with each changed order's day taken off and put on
again, so the cost of a pass does not grow with the customers' histories. Where the stored days
cannot be right (a count would go below zero, or a ledger row has no days) that customer's days are
read from their orders instead (`order_days`), which is what every pass did before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from companion.core.bulk import among, insert_rows, update_by_id
from companion.core.days import NO_NEXT_DAY, local_day, month_of
from companion.core.db import database, is_mysql, is_postgres
from companion.metrics import cohort_rollup
from companion.metrics.contributions import is_in_rollups
from companion.metrics.upsert import add_rows
from companion.models import Contact, Order, Site
from companion.models.rollups import (
    CustomerDayMonth,
    CustomerLedger,
    CustomerOrderDay,
    RollupDaily,
)

Facts = dict[tuple[int, str], list[date]]  # (contact, currency) -> sorted days of counted orders
# (contact, currency) -> stored customer-days: day -> (row id, month, orders, next day)
StoredDays = dict[tuple[int, str], dict[date, tuple[int, str, int, date]]]


Change = tuple[dict[str, Any] | None, dict[str, Any] | None]  # an order row before, after
DayCounts = dict[tuple[int, str], Counter[date]]  # (contact, currency) -> counted orders per day


def apply_order_changes(site: Site, changes: Sequence[Change]) -> None:
    """Bring the facts of the customers whose counted orders changed up to date (module doc)."""
    moves = day_moves(site, changes)
    ids = sorted({contact for contact, _ in moves})
    for start in range(0, len(ids), 500):
        _refresh_chunk(site, ids[start : start + 500], moves)


def day_moves(site: Site, changes: Sequence[Change]) -> DayCounts:
    """Per customer, how many counted orders each local day gains (+) or loses (-) by these
    changes; customers whose days do not change at all (a paid order marked completed) are left
    out."""
    moves: DayCounts = {}
    for before, after in changes:
        for row, sign in ((before, -1), (after, 1)):
            if row is not None and row.get("contact") and is_in_rollups(row):
                counts = moves.setdefault((row["contact"], row["currency"]), Counter())
                counts[local_day(row["counted_at"], site.timezone)] += sign
    return {key: counts for key, counts in moves.items() if any(counts.values())}


def _facts_from_moves(
    site: Site, ids: list[int], stored: StoredDays, old: dict[Any, Any], moves: DayCounts
) -> Facts:
    """The days of these contacts: the stored ones moved by `moves`; read from the orders for a
    contact whose stored days cannot be right."""
    facts: Facts = {}
    unsure: set[int] = {contact for contact, currency in old if (contact, currency) not in stored}
    chunk = set(ids)
    for key in set(stored) | {k for k in moves if k[0] in chunk}:
        counts = Counter({day: row[2] for day, row in stored.get(key, {}).items()})
        counts.update(moves.get(key, Counter()))
        if any(n < 0 for n in counts.values()):
            unsure.add(key[0])
            continue
        facts[key] = [day for day in sorted(counts) for _ in range(counts[day])]
    if unsure:
        facts = {key: days for key, days in facts.items() if key[0] not in unsure}
        facts.update(order_days(site, sorted(unsure)))
    return facts


def _refresh_chunk(site: Site, ids: list[int], moves: DayCounts) -> None:
    _lock_contacts(ids)
    old = {
        (r.contact, r.currency): r
        for r in CustomerLedger.select(
            CustomerLedger.id,
            CustomerLedger.contact,
            CustomerLedger.currency,
            CustomerLedger.first_day,
            CustomerLedger.first_month,
            CustomerLedger.second_day,
        )
        .where(among(CustomerLedger.contact, ids))
        .namedtuples()
    }
    stored = _stored_days(ids)
    facts = _facts_from_moves(site, ids, stored, old, moves)
    deltas: list[dict[str, Any]] = []
    writes = LedgerWrites()
    for key in set(old) | set(facts):
        deltas += _ledger_change(site, key, old.get(key), facts.get(key, []), writes)
    writes.execute()
    add_rows(RollupDaily, ("site", "day", "currency"), deltas)
    months = {key: {row[1] for row in days.values()} for key, days in stored.items()}
    cohort_rollup.apply_change(
        site, old, facts, months
    )  # the cohort roll-up, from the days as they were
    _write_order_days(site, facts, stored)


def _lock_contacts(ids: list[int]) -> None:
    """Two workers refreshing one contact take turns (SQLite writers are serialised anyway)."""
    if is_postgres() or is_mysql():
        list(
            Contact.select(Contact.id)
            .where(among(Contact.id, ids))
            .order_by(Contact.id)
            .for_update()
        )


def order_days(site: Site, ids: list[int]) -> Facts:
    facts: Facts = {}
    query = (
        Order.select(Order.contact, Order.currency, Order.counted_at)
        .where(
            Order.site == site.id,
            among(Order.contact, ids),
            Order.is_counted == True,
            Order.deleted_at.is_null(),
        )
        .tuples()
    )
    for contact, currency, counted_at in query:
        facts.setdefault((contact, currency), []).append(local_day(counted_at, site.timezone))
    return {k: sorted(v) for k, v in facts.items()}


def _stored_days(ids: list[int]) -> StoredDays:
    """Every customer-day of these contacts. Read as the driver gives the rows, converting only
    the two days: with long histories this is the most rows a pass reads (20 per customer at a
    million orders), and peewee's row wrapper cost as much again as reading them."""
    stored: StoredDays = {}
    as_day = CustomerOrderDay.day.python_value
    query = CustomerOrderDay.select(
        CustomerOrderDay.id,
        CustomerOrderDay.contact,
        CustomerOrderDay.currency,
        CustomerOrderDay.day,
        CustomerOrderDay.month,
        CustomerOrderDay.orders,
        CustomerOrderDay.next_day,
    ).where(among(CustomerOrderDay.contact, ids))
    for row_id, contact, currency, day, month, orders, next_day in database.execute(
        query
    ).fetchall():
        stored.setdefault((contact, currency), {})[as_day(day)] = (
            row_id,
            month,
            orders,
            as_day(next_day),
        )
    return stored


@dataclass
class LedgerWrites:
    """A chunk's ledger changes, written in three statements rather than one per customer."""

    created: list[dict[str, Any]] = field(default_factory=list)
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    gone: list[int] = field(default_factory=list)

    def execute(self) -> None:
        if self.gone:
            CustomerLedger.delete().where(among(CustomerLedger.id, sorted(self.gone))).execute()
        update_by_id(
            CustomerLedger,
            dict(sorted(self.changed.items())),
            ("first_day", "first_month", "second_day"),
        )
        insert_rows(
            CustomerLedger, sorted(self.created, key=lambda r: (r["contact"], r["currency"]))
        )


def _ledger_change(
    site: Site, key: tuple[int, str], old: Any, days: list[date], writes: LedgerWrites
) -> list[dict[str, Any]]:
    """The roll-up deltas of one ledger change; the row's own write goes to `writes`."""
    contact, currency = key
    first = days[0] if days else None
    second = days[1] if len(days) > 1 else None
    was = (old.first_day, old.second_day) if old else (None, None)
    if was == (first, second):
        return []
    if first is None:
        writes.gone.append(old.id)
    elif old is None:
        writes.created.append(
            {
                "site": site.id,
                "contact": contact,
                "currency": currency,
                "first_day": first,
                "first_month": month_of(first),
                "second_day": second,
            }
        )
    else:
        writes.changed[old.id] = {
            "first_day": first,
            "first_month": month_of(first),
            "second_day": second,
        }
    return _moves(site.id, currency, "new_customers", was[0], first) + _moves(
        site.id, currency, "new_repeaters", was[1], second
    )


def _moves(
    site_id: int, currency: str, column: str, old: date | None, new: date | None
) -> list[dict[str, Any]]:
    if old == new:
        return []
    out = []
    if old is not None:
        out.append({"site": site_id, "day": old, "currency": currency, column: -1})
    if new is not None:
        out.append({"site": site_id, "day": new, "currency": currency, column: 1})
    return out


def _write_order_days(site: Site, facts: Facts, stored: StoredDays) -> None:
    """Make the stored customer-days those of `facts`, writing only what differs: a new order
    usually adds one day and moves the previous day's next day, whatever the customer's history."""
    gone: list[int] = []
    changed: dict[int, dict[str, Any]] = {}
    added: list[dict[str, Any]] = []
    months: list[dict[str, Any]] = []  # CustomerDayMonth deltas: -1 where a row was, +1 where it is

    def count(currency: str, month: str, following: date, sign: int) -> None:
        months.append(
            {
                "site": site.id,
                "currency": currency,
                "month": month,
                "next_day": following,
                "customers": sign,
            }
        )

    for key in set(stored) | set(facts):
        contact, currency = key
        counts = Counter(facts.get(key, ()))
        distinct = sorted(counts)
        following_days = [*distinct[1:], NO_NEXT_DAY] if distinct else []
        have = dict(stored.get(key, {}))
        for day, following in zip(distinct, following_days, strict=True):
            row = have.pop(day, None)
            if row is None:
                added.append(
                    {
                        "site": site.id,
                        "contact": contact,
                        "currency": currency,
                        "day": day,
                        "month": month_of(day),
                        "orders": counts[day],
                        "next_day": following,
                    }
                )
                count(currency, month_of(day), following, 1)
            elif (row[2], row[3]) != (counts[day], following):
                changed[row[0]] = {"orders": counts[day], "next_day": following}
                if row[3] != following:
                    count(currency, row[1], row[3], -1)
                    count(currency, row[1], following, 1)
        for row in have.values():
            gone.append(row[0])
            count(currency, row[1], row[3], -1)
    gone.sort()
    for start in range(0, len(gone), 500):
        CustomerOrderDay.delete().where(
            among(CustomerOrderDay.id, gone[start : start + 500])
        ).execute()
    update_by_id(
        CustomerOrderDay, dict(sorted(changed.items())), ("orders", "next_day")
    )  # in id order
    insert_rows(
        CustomerOrderDay, sorted(added, key=lambda r: (r["contact"], r["currency"], r["day"]))
    )
    add_rows(CustomerDayMonth, ("site", "currency", "month", "next_day"), months)
