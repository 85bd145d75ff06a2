"""Sessions and carts per local day, equal to a rebuild: a batch adds its sessions' difference
(its visits and orders before and after it); carts are recounted for the days a batch touched
(and, for carts that go idle without any event, by a scheduled job)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from peewee import fn

from companion.core.bulk import among, insert_rows
from companion.core.days import day_bounds, day_start, days_between, local_day
from companion.core.db import is_mysql, is_postgres
from companion.ingest.activity import SESSION_IDLE
from companion.ingest.batch import Batch
from companion.ingest.carts import ABANDON_AFTER
from companion.metrics.upsert import add_rows
from companion.models import Cart, Order, Site, Visit
from companion.models.rollups import RollupCarts, RollupSessions


def refresh_for_batch(site: Site, batch: Batch) -> None:
    add_session_changes(site, batch)
    refresh_carts(site, _cart_days(site, batch), batch.now)


Visits = dict[int, tuple[datetime, datetime]]  # a session key's visits: id -> (started, last seen)


def add_session_changes(site: Site, batch: Batch) -> None:
    """Add the batch's difference to the sessions roll-up: each visit of a session key the batch
    touched (a visit it opened or extended, an order it placed, changed or deleted in that
    session) counted as it is now, less as it was before the batch. Reads the visits and counted
    orders of those keys only, not every visit of the touched days."""
    initial, final = _order_states(batch)
    keys = set(batch.visit_keys)
    keys.update(
        row["session_key"]
        for row in (*initial.values(), *final.values())
        if row and row["session_key"]
    )
    if not keys:
        return
    ordered = sorted(keys)
    now_visits = _visits_of(site.id, ordered)
    now_orders = _counted_orders(site.id, ordered)
    then_visits = {key: dict(visits) for key, visits in now_visits.items()}
    for visit_id in batch.new_visit_ids:
        for visits in then_visits.values():
            visits.pop(visit_id, None)
    for visit_id, (key, started, last_seen) in batch.visit_befores.items():
        then_visits.setdefault(key, {})[visit_id] = (started, last_seen)
    then_orders = {key: dict(orders) for key, orders in now_orders.items()}
    for order_id, row in final.items():
        if row and row["session_key"] in then_orders:
            then_orders[row["session_key"]].pop(order_id, None)
    for order_id, row in initial.items():
        if row and row["session_key"] and row["is_counted"] and not row["deleted_at"]:
            then_orders.setdefault(row["session_key"], {})[order_id] = row["created_at"]
    counts: dict[date, list[int]] = {}
    zone = site.timezone
    for visits_by_key, orders_by_key, sign in (
        (now_visits, now_orders, 1),
        (then_visits, then_orders, -1),
    ):
        for key, visits in visits_by_key.items():
            placed = list(orders_by_key.get(key, {}).values())
            for started, last_seen in visits.values():
                won = any(started <= t <= last_seen + SESSION_IDLE for t in placed)
                tally = counts.setdefault(local_day(started, zone), [0, 0])
                tally[0] += sign
                tally[1] += sign * won
    add_rows(
        RollupSessions,
        ("site", "day"),
        [
            {"site": site.id, "day": d, "sessions": s, "converted": c}
            for d, (s, c) in counts.items()
        ],
    )


def _order_states(
    batch: Batch,
) -> tuple[dict[int, dict[str, Any] | None], dict[int, dict[str, Any] | None]]:
    """Each order the batch changed, as it was before its first change and after its last."""
    initial: dict[int, dict[str, Any] | None] = {}
    final: dict[int, dict[str, Any] | None] = {}
    for before, after in batch.order_changes:
        order_id = (after or before or {}).get("id")
        if order_id is None:
            continue
        initial.setdefault(order_id, before)
        final[order_id] = after
    return initial, final


def _visits_of(site_id: int, keys: list[str]) -> dict[str, Visits]:
    """The visits of these session keys as they are now. On PostgreSQL and MariaDB they stay
    share-locked until commit, so a second worker's batch extending one of them waits for this
    one (which then counted them as they are) and starts from this batch's result."""
    found: dict[str, Visits] = {}
    for start in range(0, len(keys), 500):
        query = Visit.select(
            Visit.id, Visit.session_key, Visit.started_at, Visit.last_seen_at
        ).where(Visit.site == site_id, among(Visit.session_key, keys[start : start + 500]))
        for visit_id, key, started, last_seen in _shared(query, Visit.id).tuples():
            found.setdefault(key, {})[visit_id] = (started, last_seen)
    return found


def _counted_orders(site_id: int, keys: list[str]) -> dict[str, dict[int, datetime]]:
    """The counted orders placed in these sessions as they are now (share-locked, as the visits:
    a second worker changing one of them waits for this batch)."""
    found: dict[str, dict[int, datetime]] = {}
    for start in range(0, len(keys), 500):
        query = Order.select(Order.id, Order.session_key, Order.created_at).where(
            Order.site == site_id,
            among(Order.session_key, keys[start : start + 500]),
            Order.is_counted == True,
            Order.deleted_at.is_null(),
        )
        for order_id, key, created in _shared(query, Order.id).tuples():
            found.setdefault(key, {})[order_id] = created
    return found


def _shared(query: Any, order: Any) -> Any:
    """Share-locked in id order on PostgreSQL and MariaDB; on SQLite (one writer) as it is, with no
    ORDER BY that would make its planner walk the site's rows by the site index to skip a sort."""
    if is_postgres():
        return query.order_by(order).for_update("FOR SHARE")
    if is_mysql():
        return query.order_by(order).for_update("LOCK IN SHARE MODE")
    return query


def _cart_days(site: Site, batch: Batch) -> set[date]:
    tokens = {e.data["cart_token"] for e in batch.of_type("cart.updated")}
    tokens |= {
        row["cart_token"]
        for pair in batch.order_changes
        for row in pair
        if row and row.get("cart_token")
    }
    days: set[date] = set()
    for start_ in range(0, len(tokens), 500):
        chunk = sorted(tokens)[start_ : start_ + 500]
        for (created,) in (
            Cart.select(Cart.created_at)
            .where(Cart.site == site.id, among(Cart.token, chunk))
            .tuples()
        ):
            days.add(local_day(created, site.timezone))
    return days


def refresh_sessions(site: Site, days: Iterable[date]) -> None:
    """Recount visits started on these days and those with a counted order inside them."""
    for first, last in _runs(sorted(set(days))):
        counts = session_counts(site, *day_bounds(first, last, site.timezone))
        _replace(
            RollupSessions,
            site.id,
            first,
            last,
            [{"day": d, "sessions": s, "converted": c} for d, (s, c) in counts.items()],
        )


def session_counts(site: Site, start: datetime, end: datetime) -> dict[date, tuple[int, int]]:
    """Visits started in [start, end) per local day, and those with a counted order placed inside
    them. (Two reads by key, not a join: with the statistics of a young database PostgreSQL
    joined every visit of the day to every order of the site, 200 ms a batch.)"""
    visits = list(
        Visit.select(Visit.session_key, Visit.started_at, Visit.last_seen_at)
        .where(Visit.site == site.id, Visit.started_at >= start, Visit.started_at < end)
        .tuples()
    )
    placed = _order_times(site.id, sorted({v[0] for v in visits}))
    day_of = _day_finder(site, start, end)
    counts: dict[date, tuple[int, int]] = {}
    for key, started, last_seen in visits:
        day = day_of(started)
        won = key in placed and any(started <= t <= last_seen + SESSION_IDLE for t in placed[key])
        sessions, converted = counts.get(day, (0, 0))
        counts[day] = (sessions + 1, converted + int(won))
    return counts


def _order_times(site_id: int, keys: list[str]) -> dict[str, list[datetime]]:
    times: dict[str, list[datetime]] = {}
    for start in range(0, len(keys), 500):
        for key, created in (
            Order.select(Order.session_key, Order.created_at)
            .where(
                Order.site == site_id,
                among(Order.session_key, keys[start : start + 500]),
                Order.is_counted == True,
                Order.deleted_at.is_null(),
            )
            .tuples()
        ):
            times.setdefault(key, []).append(created)
    return times


def _day_finder(site: Site, start: datetime, end: datetime) -> Callable[[datetime], date]:
    """The local day of a moment in [start, end), [start, end) being whole local days: found
    among the days' UTC starts instead of converting every moment to the zone."""
    first, last = (
        local_day(start, site.timezone),
        local_day(end - timedelta(microseconds=1), site.timezone),
    )
    days = days_between(first, last)
    if len(days) == 1:
        return lambda moment: first
    starts = [day_start(d, site.timezone) for d in days]
    return lambda moment: days[bisect_right(starts, moment) - 1]


def refresh_carts(site: Site, days: Iterable[date], now: datetime) -> None:
    """Recount carts with items created on these days: idle an hour unconverted, and converted."""
    for first, last in _runs(sorted(set(days))):
        counts = cart_counts(site, *day_bounds(first, last, site.timezone), now)
        _replace(
            RollupCarts,
            site.id,
            first,
            last,
            [{"day": d, "abandoned": a, "converted": c} for d, (a, c) in counts.items()],
        )


def cart_counts(
    site: Site, start: datetime, end: datetime, now: datetime
) -> dict[date, tuple[int, int]]:
    counts: dict[date, tuple[int, int]] = {}
    query = (
        Cart.select(Cart.created_at, Cart.status, Cart.updated_at)
        .where(
            Cart.site == site.id,
            Cart.created_at >= start,
            Cart.created_at < end,
            among(Cart.status, ("active", "abandoned", "converted")),
        )
        .tuples()
    )
    day_of = _day_finder(site, start, end)
    for created, status, updated in query:
        day = day_of(created)
        abandoned, converted = counts.get(day, (0, 0))
        if status == "converted":
            counts[day] = (abandoned, converted + 1)
        elif updated <= now - ABANDON_AFTER:
            counts[day] = (abandoned + 1, converted)
    return counts


def _replace(model: Any, site_id: int, first: date, last: date, rows: list[dict[str, Any]]) -> None:
    model.delete().where(model.site == site_id, model.day >= first, model.day <= last).execute()
    insert_rows(model, [{"site": site_id, **r} for r in rows])


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs, so each run is one query."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def refresh_recent_carts(now: datetime) -> int:
    """Scheduled: carts go idle without any event; recount the days of carts that did lately."""
    done = 0
    for site in Site.select():
        recent = (
            Cart.select(fn.MIN(Cart.created_at))
            .where(
                Cart.site == site.id,
                Cart.updated_at >= now - ABANDON_AFTER - timedelta(hours=2),
                Cart.updated_at <= now - ABANDON_AFTER,
            )
            .scalar()
        )
        if recent is not None:
            refresh_carts(site, _days_until(site, recent, now), now)
            done += 1
    return done


def _days_until(site: Site, since: datetime, now: datetime) -> list[date]:
    first, last = local_day(since, site.timezone), local_day(now, site.timezone)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def session_day_start(site: Site, day: date) -> datetime:
    return day_start(day, site.timezone)
