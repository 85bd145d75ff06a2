"""Sessions and carts per local day: recomputed for the days a batch touched (and, for carts
that go idle without any event, by a scheduled job), so they always equal a rebuild."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from peewee import fn

from companion.core.bulk import among, insert_rows
from companion.core.days import day_bounds, day_start, days_between, local_day
from companion.ingest.activity import SESSION_IDLE
from companion.ingest.batch import Batch
from companion.ingest.carts import ABANDON_AFTER
from companion.models import Cart, Order, Site, Visit
from companion.models.rollups import RollupCarts, RollupSessions


def refresh_for_batch(site: Site, batch: Batch) -> None:
    refresh_sessions(site, _session_days(site, batch))
    refresh_carts(site, _cart_days(site, batch), batch.now)


def _session_days(site: Site, batch: Batch) -> set[date]:
    keys = {e.session_key for e in batch.of_type("page.viewed") if e.session_key}
    keys |= {
        row["session_key"]
        for pair in batch.order_changes
        for row in pair
        if row and row.get("session_key")
    }
    days: set[date] = set()
    for start_ in range(0, len(keys), 500):
        chunk = sorted(keys)[start_ : start_ + 500]
        for (started,) in (
            Visit.select(Visit.started_at)
            .where(Visit.site == site.id, among(Visit.session_key, chunk))
            .tuples()
        ):
            days.add(local_day(started, site.timezone))
    for event in batch.of_type("page.viewed"):  # a view can move a visit's start to another day
        days.add(local_day(event.occurred_at, site.timezone))
        days.add(local_day(event.occurred_at + SESSION_IDLE, site.timezone))
    return days


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
