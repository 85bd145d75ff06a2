"""Each product's outlook for a site's local day: its forecast over the next FORECAST_DAYS days and
whether it stalled, from the product roll-up of the HISTORY_DAYS complete days before it.

The products page and its exports read it (companion/dashboard/products.py). It is computed once
per local day and stored (ProductOutlook); the scheduler's `prepare_outlooks` computes it for every
site shortly after the site's local midnight, so the owner's first view of the day reads it
instead of computing it (about 100 ms of CPU at a million orders)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from peewee import fn

from companion.core.bulk import insert_rows
from companion.core.db import database, retry_deadlocks, write_transaction
from companion.core.sql import as_date
from companion.intelligence.maths.anomalies import stalled_products
from companion.intelligence.maths.forecast import forecast_products
from companion.models import Site
from companion.models.rollups import ANY_DAY, ProductOutlook, RollupDimension, UnitsChange

HISTORY_DAYS = 56
FORECAST_DAYS = 28


def local_today(site: Site, now: datetime) -> date:
    """The site's local day at `now` (naive UTC, or aware)."""
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(site.timezone)).date()


def prepare_outlooks(now: datetime) -> dict[str, int]:
    """Every site's outlook for its local day at `now`, computed and stored where it is missing or
    stale (`stored`: how many sites' were written now); a site whose stored one is current costs
    two reads, one that sold nothing in the eight weeks three. Run by the scheduler every 15
    minutes (jobs/schedule.py), so a day's outlook is there within that time of the site's
    midnight (and again after a late order or a rebuild changed the days it reads)."""
    sites = stored = 0
    for site in Site.select():
        rows, computed = _outlook(site, local_today(site, now))
        sites, stored = sites + 1, stored + bool(computed and rows)
    return {"sites": sites, "stored": stored}


def daily_units(site: Site, today: date) -> tuple[list[str], np.ndarray]:
    """Units sold per product per local day over the last eight weeks, oldest first (roll-ups).

    One roll-up row per (day, product): about 22,000 rows for 400 products, read as plain
    tuples (no model rows, each distinct day converted once)."""
    first = today - timedelta(days=HISTORY_DAYS)
    d = RollupDimension
    query = d.select(d.day, d.key, d.quantity).where(
        d.site == site.id,
        d.currency == site.currency,
        d.dimension == "product",
        d.day >= first,
        d.day < today,
    )
    offsets: dict[Any, int] = {}
    per: dict[str, dict[int, int]] = defaultdict(dict)
    for day, key, units in database.execute(query).fetchall():
        offset = offsets.get(day)
        if offset is None:
            offset = offsets[day] = (as_date(day) - first).days
        if units:
            per[key][offset] = int(units)
    ids = sorted(per)
    matrix = np.zeros((len(ids), HISTORY_DAYS))
    for i, pid in enumerate(ids):
        for day, units in per[pid].items():
            matrix[i, day] = max(units, 0)
    return ids, matrix


@dataclass(frozen=True)
class Outlook:
    """A product's forecast and stalled test as of a local day (stock and names are read live)."""

    product_id: str
    method: str
    forecast: float  # units over the next FORECAST_DAYS days
    point: str  # units per forecast day, JSON (parsed only where days of stock are needed)
    zero_days: int | None  # stalled: days without a sale
    daily_rate: float | None  # stalled: units a day before


def outlook(site: Site, today: date) -> list[Outlook]:
    """Each product sold in the eight weeks before `today`, its forecast and whether it stalled.

    Computed once per local day from the product roll-up and stored (ProductOutlook): they read
    complete days only. The stored rows carry the count of unit changes to those days (UnitsChange,
    which the appliers and rebuilds bump) read before the units were; when a late order or a
    rebuild changed one of those days since, the count differs and the outlook is computed again,
    so a stored outlook never shows other numbers than a fresh one."""
    return _outlook(site, today)[0]


def _outlook(site: Site, today: date) -> tuple[list[Outlook], bool]:
    """The outlook, and whether it was computed now (False: it was stored and current)."""
    stamp = _units_stamp(site, today)  # before the units: a change in between recomputes later
    o = ProductOutlook
    stored = database.execute(
        o.select(
            o.stamp, o.product_id, o.method, o.forecast, o.point, o.zero_days, o.daily_rate
        ).where(o.site == site.id, o.currency == site.currency, o.day == today)
    ).fetchall()
    if stored and all(row[0] == stamp for row in stored):
        current = (Outlook(pid, m, float(f), p, z, r) for _, pid, m, f, p, z, r in stored)
        return sorted(current, key=lambda r: r.product_id), False
    rows = _computed(*daily_units(site, today))
    _store(site, today, stamp, rows)
    return rows, True


def _units_stamp(site: Site, today: date) -> int:
    u = UnitsChange
    first = today - timedelta(days=HISTORY_DAYS)
    return int(
        u.select(fn.SUM(u.changes))
        .where(u.site == site.id, ((u.day >= first) & (u.day < today)) | (u.day == ANY_DAY))
        .scalar()
        or 0
    )


def _computed(ids: list[str], matrix: np.ndarray) -> list[Outlook]:
    keep = [i for i in range(len(ids)) if matrix[i].sum() > 0]
    if not keep:
        return []
    stopped = {s.index: s for s in stalled_products(matrix)}
    return [
        Outlook(
            ids[i],
            result.method,
            float(result.point.sum()),
            json.dumps([float(x) for x in result.point]),
            stopped[i].zero_days if i in stopped else None,
            stopped[i].daily_rate if i in stopped else None,
        )
        for i, result in zip(
            keep, forecast_products(matrix[keep], horizon=FORECAST_DAYS), strict=True
        )
    ]


def _store(site: Site, today: date, stamp: int, rows: list[Outlook]) -> None:
    """Replace the site's stored outlook with this day's (two views computing it at once store
    the same rows: the second one's are ignored)."""
    o = ProductOutlook

    def write() -> None:
        with write_transaction():
            o.delete().where(o.site == site.id, o.currency == site.currency).execute()
            insert_rows(  # plain bulk statements: peewee's insert_many spent 45-100 ms on 400 rows
                o,
                [
                    {
                        "site": site.id,
                        "currency": site.currency,
                        "day": today,
                        "stamp": stamp,
                        **asdict(r),
                    }
                    for r in rows
                ],
                ignore_conflicts=True,
            )

    if rows:
        retry_deadlocks(write)
