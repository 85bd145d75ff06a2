"""Per-customer facts the customer metrics need, kept per currency for touched contacts.

CustomerLedger: first and second counted order day (new customers, repeat customers, cohorts).
CustomerOrderDay: each day with a counted order and the next such day (retention between any
two adjacent periods is then one indexed count); CustomerDayMonth counts them per month of the day
and next day, by deltas of each row written here (retention over a year reads that). The daily
new_customers / new_repeaters columns of RollupDaily follow the ledger by deltas.

A pass gives the order rows it changed, as they were and as they are (`apply_order_changes`): a
customer's days are their stored customer-days with each changed order's day taken off and put on
again. Where the stored days cannot be right (a count would go below zero, or a ledger row has no
days) that customer's days are read from their orders instead (`order_days`), which is what every
pass did before.

Most passes only add orders on or after each customer's last stored day (a history import, a sale).
For those customers only their last stored day is read (`_last_days`), and the rows, the ledger
and the cohort months are advanced from it (`_append`), so the cost of a pass does not grow with
the customers' histories; reading all their days was the most rows a pass read at 20 orders each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from peewee import fn

from companion.core.bulk import among, insert_rows, update_by_id
from companion.core.days import NO_NEXT_DAY, local_day, month_of
from companion.core.db import database, is_mysql, is_postgres
from companion.metrics import cohort_rollup
from companion.metrics.contributions import is_in_rollups
from companion.metrics.upsert import add_rows
from companion.models import Contact, Order, Site
from companion.models.rollups import (
    CohortMonth,
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
    lasts = _last_days(ids)
    appended = _appending(ids, old, lasts, moves)
    deltas: list[dict[str, Any]] = []
    ledger = LedgerWrites()
    days = DayWrites(site.id)
    cohorts: list[dict[str, Any]] = []
    for key, added in sorted(appended.items()):
        deltas += _append(site, key, old.get(key), lasts.get(key), added, ledger, days, cohorts)
    added_to = {key[0] for key in appended}
    rest = [contact for contact in ids if contact not in added_to]
    if rest:
        chunk = set(rest)
        old_rest = {key: row for key, row in old.items() if key[0] in chunk}
        stored = _stored_days(rest)
        facts = _facts_from_moves(site, rest, stored, old_rest, moves)
        for key in set(old_rest) | set(facts):
            deltas += _ledger_change(site, key, old_rest.get(key), facts.get(key, []), ledger)
        months = {key: {row[1] for row in rows.values()} for key, rows in stored.items()}
        cohort_rollup.apply_change(
            site, old_rest, facts, months
        )  # the cohort roll-up, from the days as they were
        _order_day_writes(site, facts, stored, days)
    ledger.execute()
    add_rows(RollupDaily, ("site", "day", "currency"), deltas)
    add_rows(CohortMonth, cohort_rollup.KEYS, cohorts)
    days.execute()


# a customer's last stored day: row id, day, month, orders, next day
Last = tuple[int, date, str, int, date]
# what both reads of customer-days take, as the driver gives it (the days are converted)
DAY_COLUMNS = (
    CustomerOrderDay.id,
    CustomerOrderDay.contact,
    CustomerOrderDay.currency,
    CustomerOrderDay.day,
    CustomerOrderDay.month,
    CustomerOrderDay.orders,
    CustomerOrderDay.next_day,
)


def _last_days(ids: list[int]) -> dict[tuple[int, str], Last]:
    """Each (contact, currency)'s last stored customer-day: the greatest day per key from the
    (contact, currency, day) index alone, then that one row."""
    latest = (
        CustomerOrderDay.select(
            CustomerOrderDay.contact.alias("who"),
            CustomerOrderDay.currency.alias("cur"),
            fn.MAX(CustomerOrderDay.day).alias("last_day"),
        )
        .where(among(CustomerOrderDay.contact, ids))
        .group_by(CustomerOrderDay.contact, CustomerOrderDay.currency)
        .alias("latest")
    )
    query = CustomerOrderDay.select(*DAY_COLUMNS).join(
        latest,
        on=(
            (CustomerOrderDay.contact == latest.c.who)
            & (CustomerOrderDay.currency == latest.c.cur)
            & (CustomerOrderDay.day == latest.c.last_day)
        ),
    )
    as_day = CustomerOrderDay.day.python_value
    return {
        (contact, currency): (row_id, as_day(day), month, orders, as_day(next_day))
        for row_id, contact, currency, day, month, orders, next_day in database.execute(
            query
        ).fetchall()
    }


def _appending(
    ids: list[int], old: dict[Any, Any], lasts: dict[tuple[int, str], Last], moves: DayCounts
) -> dict[tuple[int, str], list[tuple[date, int]]]:
    """The (contact, currency) keys whose change only adds orders on or after their last stored day
    (a history import, a sale: the usual pass), with the days and orders added, for contacts all
    of whose changes are such. Their days need not be read: the last one is enough. A contact
    with any other change (an order that stopped counting or moved, or an earlier day) or whose
    stored rows disagree (a ledger without days) is left to the full path."""
    chunk = set(ids)
    appended: dict[tuple[int, str], list[tuple[date, int]]] = {}
    mixed: set[int] = set()
    for key, counts in moves.items():
        if key[0] not in chunk or key[0] in mixed:
            continue
        last = lasts.get(key)
        added = sorted((day, n) for day, n in counts.items() if n)
        if (
            (key in old) != (last is not None)
            or any(n < 0 for _, n in added)
            or (last is not None and added[0][0] < last[1])
        ):
            mixed.add(key[0])
            continue
        appended[key] = added
    return {key: added for key, added in appended.items() if key[0] not in mixed}


def _append(
    site: Site,
    key: tuple[int, str],
    old: Any,
    last: Last | None,
    added: list[tuple[date, int]],
    ledger: LedgerWrites,
    days: DayWrites,
    cohorts: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Add the orders of `added` days (none before the last stored day) to one customer's days,
    ledger and cohort months, writing what the full path would write for the same change but from
    the last stored day alone; returns the roll-up deltas of the ledger change."""
    contact, currency = key
    new_days = added
    if last is not None:
        row_id, day, month, orders, following = last
        same_day = added[0][1] if added[0][0] == day else 0
        new_days = added[1:] if same_day else added
        after = (orders + same_day, new_days[0][0] if new_days else following)
        days.change(currency, row_id, month, (orders, following), after)
    for i, (day, n) in enumerate(new_days):
        following = new_days[i + 1][0] if i + 1 < len(new_days) else NO_NEXT_DAY
        days.add(contact, currency, day, n, following)
    # the ledger's first and second order days (orders, not distinct days)
    if old is not None:
        first, second = old.first_day, old.second_day or added[0][0]
    else:
        first = added[0][0]
        second = first if added[0][1] > 1 else (added[1][0] if len(added) > 1 else None)
    deltas = _ledger_change(site, key, old, [first] if second is None else [first, second], ledger)
    cohort = old.first_month if old is not None else month_of(first)
    latest = last[2] if last is not None else None  # no later month: no day is before the last
    cohorts += cohort_rollup.months_added(
        site.id, currency, cohort, latest, [month_of(day) for day, _ in new_days]
    )
    return deltas


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
    query = CustomerOrderDay.select(*DAY_COLUMNS).where(among(CustomerOrderDay.contact, ids))
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


@dataclass
class DayWrites:
    """A chunk's customer-day changes and their CustomerDayMonth deltas (-1 where a row was, +1
    where it is), written in a few statements."""

    site_id: int
    gone: list[int] = field(default_factory=list)
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)

    def count(self, currency: str, month: str, following: date, sign: int) -> None:
        self.months.append(
            {
                "site": self.site_id,
                "currency": currency,
                "month": month,
                "next_day": following,
                "customers": sign,
            }
        )

    def add(self, contact: int, currency: str, day: date, orders: int, following: date) -> None:
        self.added.append(
            {
                "site": self.site_id,
                "contact": contact,
                "currency": currency,
                "day": day,
                "month": month_of(day),
                "orders": orders,
                "next_day": following,
            }
        )
        self.count(currency, month_of(day), following, 1)

    def change(
        self,
        currency: str,
        row_id: int,
        month: str,
        was: tuple[int, date],
        now: tuple[int, date],
    ) -> None:
        """A stored row's (orders, next day) from `was` to `now`."""
        if was == now:
            return
        self.changed[row_id] = {"orders": now[0], "next_day": now[1]}
        if was[1] != now[1]:
            self.count(currency, month, was[1], -1)
            self.count(currency, month, now[1], 1)

    def remove(self, currency: str, row: tuple[int, str, int, date]) -> None:
        self.gone.append(row[0])
        self.count(currency, row[1], row[3], -1)

    def execute(self) -> None:
        gone = sorted(self.gone)
        for start in range(0, len(gone), 500):
            CustomerOrderDay.delete().where(
                among(CustomerOrderDay.id, gone[start : start + 500])
            ).execute()
        update_by_id(
            CustomerOrderDay, dict(sorted(self.changed.items())), ("orders", "next_day")
        )  # in id order
        insert_rows(
            CustomerOrderDay,
            sorted(self.added, key=lambda r: (r["contact"], r["currency"], r["day"])),
        )
        add_rows(CustomerDayMonth, ("site", "currency", "month", "next_day"), self.months)


def _order_day_writes(site: Site, facts: Facts, stored: StoredDays, writes: DayWrites) -> None:
    """Make the stored customer-days those of `facts`, writing only what differs: a new order
    usually adds one day and moves the previous day's next day, whatever the customer's history."""
    for key in set(stored) | set(facts):
        contact, currency = key
        counts = Counter(facts.get(key, ()))
        distinct = sorted(counts)
        following_days = [*distinct[1:], NO_NEXT_DAY] if distinct else []
        have = dict(stored.get(key, {}))
        for day, following in zip(distinct, following_days, strict=True):
            row = have.pop(day, None)
            if row is None:
                writes.add(contact, currency, day, counts[day], following)
            else:
                writes.change(currency, row[0], row[1], (row[2], row[3]), (counts[day], following))
        for row in have.values():
            writes.remove(currency, row)
