"""Alerts: revenue, conversion and refunds off their weekday baseline, and products that stopped
selling.

`scan_site(site, now)` reads the last WINDOW_DAYS complete local days (the metric roll-ups, plus
one GROUP BY for refund counts per product and day), runs the detectors of `anomalies.py`, and
stores each incident of the last REPORT_DAYS days once (unique per site, kind, product and start
day): open while it is still going on, resolved once it is over. Scanning again changes nothing
but the figures of an incident that is still growing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from peewee import fn

from companion.core.days import day_bounds, local_day
from companion.core.sql import as_date, execute, quote
from companion.core.sql import local_day as local_day_sql
from companion.intelligence.maths.anomalies import (
    Incident,
    detect_incidents,
    detect_rate_incidents,
    stalled_products,
)
from companion.models import Order, OrderItem, Refund, Site
from companion.models.intelligence import Alert
from companion.models.rollups import RollupDaily, RollupDimension, RollupSessions

WINDOW_DAYS = 120
REPORT_DAYS = 14  # incidents that started or were still going on in the last two weeks
MIN_PRODUCT_ORDERS = 56  # a product needs about one order a day before its refund rate can spike
LINKED_ORDERS = 50
# Every product is tested every day: a stricter score than the store-wide 2.5 keeps the many
# small per-product series from crying wolf (tuned on generated stores, see docs/intelligence.md).
PRODUCT_THRESHOLD = 3.0
PRODUCT_MIN_CHANGE = 0.10


@dataclass(frozen=True)
class Window:
    first: date
    last: date  # yesterday: today is not over

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def index(self, day: Any) -> int:
        return (as_date(day) - self.first).days


def window_for(today: date) -> Window:
    return Window(today - timedelta(days=WINDOW_DAYS), today - timedelta(days=1))


def _series(w: Window, rows: list[tuple[Any, Any]]) -> np.ndarray:
    values = np.zeros(len(w.days))
    for day, value in rows:
        if w.first <= as_date(day) <= w.last:
            values[w.index(day)] += float(value or 0)
    return values


def revenue_and_sessions(site: Site, w: Window) -> dict[str, np.ndarray]:
    d, s = RollupDaily, RollupSessions
    daily = list(
        d.select(d.day, d.revenue, d.orders)
        .where(d.site == site.id, d.currency == site.currency, d.day.between(w.first, w.last))
        .tuples()
    )
    sessions = list(
        s.select(s.day, s.sessions, s.converted)
        .where(s.site == site.id, s.day.between(w.first, w.last))
        .tuples()
    )
    return {
        "revenue": _series(w, [(r[0], r[1]) for r in daily]),
        "orders": _series(w, [(r[0], r[2]) for r in daily]),
        "sessions": _series(w, [(r[0], r[1]) for r in sessions]),
        "converted": _series(w, [(r[0], r[2]) for r in sessions]),
    }


def product_series(site: Site, w: Window) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Product ids and their orders and units per day (roll-ups), oldest first."""
    d = RollupDimension
    rows = (
        d.select(d.key, d.day, fn.SUM(d.orders), fn.SUM(d.quantity))
        .where(
            d.site == site.id,
            d.currency == site.currency,
            d.dimension == "product",
            d.day.between(w.first, w.last),
        )
        .group_by(d.key, d.day)
        .tuples()
    )
    per: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for key, day, orders, units in rows:
        per[key].append((w.index(day), float(orders or 0), float(units or 0)))
    ids = sorted(per)
    orders, units = np.zeros((len(ids), len(w.days))), np.zeros((len(ids), len(w.days)))
    for i, pid in enumerate(ids):
        for k, n, u in per[pid]:
            orders[i, k], units[i, k] = n, max(u, 0.0)
    return ids, orders, units


def refund_counts(site: Site, w: Window) -> dict[str, np.ndarray]:
    """Refunds made per local day, per product of the refunded order ("" = the whole store)."""
    start, end = day_bounds(w.first, w.last, site.timezone)
    r, i = quote(Refund._meta.table_name), quote(OrderItem._meta.table_name)
    day = local_day_sql(f"{r}.created_at", site.timezone, start, end)
    rows = execute(
        f"SELECT {i}.product_id, {day}, COUNT(DISTINCT {r}.id) FROM {r} JOIN {i} ON {i}.order_id = "
        f"{r}.order_id "
        f"WHERE {r}.site_id = {{p}} AND {r}.created_at >= {{p}} AND {r}.created_at < {{p}} "
        f"GROUP BY {i}.product_id, {day}",
        [site.id, start, end],
    )
    store = execute(
        f"SELECT {day}, COUNT(*) FROM {r} WHERE {r}.site_id = {{p}} AND {r}.created_at >= {{p}} "
        f"AND {r}.created_at < {{p}} GROUP BY {day}",
        [site.id, start, end],
    )
    found: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    for pid, d, n in rows:
        found[str(pid)].append((d, n))
    series = {pid: _series(w, pairs) for pid, pairs in found.items()}
    series[""] = _series(w, store)
    return series


@dataclass
class Found:
    kind: str
    title: str
    incident: Incident | None
    key: str = ""
    started: int = 0
    detail: str = ""
    baseline: float | None = None
    observed: float | None = None
    relative_change: float | None = None
    ongoing: bool = True


def detect(site: Site, w: Window, report_days: int = REPORT_DAYS) -> list[Found]:
    """Every incident still going on, or over, within the last `report_days` days of the window."""
    n = len(w.days)

    def _recent(incidents: list[Incident], n_days: int) -> list[Incident]:
        return [x for x in incidents if x.end >= n_days - report_days]

    day = revenue_and_sessions(site, w)
    found = [
        _found("revenue_drop", "Revenue is down", x)
        for x in _recent(detect_incidents(day["revenue"], direction="drop"), n)
    ]
    if day["sessions"].sum() > 0:
        found += [
            _found("conversion_drop", "Conversion rate dropped", x, rate=True)
            for x in _recent(
                detect_rate_incidents(day["converted"], day["sessions"], direction="drop"), n
            )
        ]
    refunds = refund_counts(site, w)
    found += [
        _found("refund_spike", "Refunds are up", x, rate=True)
        for x in _recent(
            detect_rate_incidents(
                refunds[""], np.maximum(day["orders"], refunds[""]), direction="spike"
            ),
            n,
        )
    ]
    ids, orders, units = product_series(site, w)
    found += _product_refunds(ids, orders, refunds, n, report_days)
    found += _stalled(ids, units)
    return found


def _product_refunds(
    ids: list[str], orders: np.ndarray, refunds: dict[str, np.ndarray], n: int, report_days: int
) -> list[Found]:
    found = []
    for i, pid in enumerate(ids):
        if pid not in refunds or orders[i].sum() < MIN_PRODUCT_ORDERS:
            continue
        k = refunds[pid]
        spikes = detect_rate_incidents(
            k,
            np.maximum(orders[i], k),
            direction="spike",
            threshold=PRODUCT_THRESHOLD,
            min_change=PRODUCT_MIN_CHANGE,
        )
        for x in [x for x in spikes if x.end >= n - report_days]:
            found.append(
                _found(
                    "product_refund_spike",
                    f"Refunds are up on product {pid}",
                    x,
                    key=pid,
                    rate=True,
                )
            )
    return found


def _stalled(ids: list[str], units: np.ndarray) -> list[Found]:
    if not ids:
        return []
    return [
        Found(
            "stalled_product",
            f"Product {ids[s.index]} stopped selling",
            None,
            key=ids[s.index],
            started=s.since,
            baseline=s.daily_rate,
            observed=0.0,
            relative_change=-1.0,
            detail=f"sold {s.daily_rate:.1f} a day, then nothing for {s.zero_days} days "
            f"(chance {s.probability:.1g} at that rate)",
        )
        for s in stalled_products(units)
    ]


def _found(kind: str, title: str, x: Incident, key: str = "", rate: bool = False) -> Found:
    if rate:
        detail = f"{x.observed:.1%} a day against a usual {x.baseline:.1%}"
    else:
        detail = f"{x.observed:,.2f} a day against a usual {x.baseline:,.2f}"
    change = x.relative_change if np.isfinite(x.relative_change) else None
    detail += f" ({change:+.0%})" if change is not None else " (usually none)"
    return Found(
        kind,
        title,
        x,
        key,
        x.start,
        detail,
        float(x.baseline),
        float(x.observed),
        change,
        x.ongoing,
    )


def affected_orders(site: Site, f: Found, since: datetime) -> list[int]:
    """Orders the alert is about: refunded orders of the product, its last orders, or orders
    since."""
    if f.kind in ("product_refund_spike", "refund_spike"):
        q = (
            Order.select(Order.id)
            .join(Refund, on=(Refund.order == Order.id))
            .where(Order.site == site.id, Refund.created_at >= since)
        )
        if f.key:
            q = q.where(
                Order.id.in_(
                    OrderItem.select(OrderItem.order).where(
                        OrderItem.site == site.id, OrderItem.product_id == f.key
                    )
                )
            )
    elif f.kind == "stalled_product":
        q = (
            Order.select(Order.id)
            .join(OrderItem)
            .where(Order.site == site.id, OrderItem.product_id == f.key)
        )
    else:
        q = Order.select(Order.id).where(Order.site == site.id, Order.counted_at >= since)
    return sorted(
        {i for (i,) in q.order_by(Order.id.desc()).limit(LINKED_ORDERS).tuples()}, reverse=True
    )


def scan_site(site: Site, now: datetime, today: date | None = None) -> list[Alert]:
    """Store the incidents of the last two weeks before `today` (the site's local day at `now`);
    returns the alerts raised for the first time. Alerts are stamped with `now`."""
    today = today or local_day(now, site.timezone)
    w = window_for(today)
    new, seen = [], set()
    for f in detect(site, w):
        started = w.days[f.started]
        seen.add((f.kind, f.key, started))
        alert, created = _store(site, f, started, now)
        if created:
            new.append(alert)
    _resolve_gone(site, seen, now)
    return new


def _store(site: Site, f: Found, started: date, now: datetime) -> tuple[Alert, bool]:
    since, _ = day_bounds(started, started, site.timezone)
    values = {
        "title": f.title,
        "detail": f"Since {started:%a %d %b}: {f.detail}.",
        "baseline": f.baseline,
        "observed": f.observed,
        "relative_change": f.relative_change,
        "product_id": f.key or None,
        "order_ids": affected_orders(site, f, since),
        "status": "open" if f.ongoing else "resolved",
        "updated_at": now,
        "resolved_at": None if f.ongoing else now,
    }
    alert, created = Alert.get_or_create(
        site=site.id,
        kind=f.kind,
        key=f.key,
        started_on=started,
        defaults={**values, "detected_at": now},
    )
    if not created:
        if alert.resolved_at and not f.ongoing:
            values["resolved_at"] = alert.resolved_at
        Alert.update(**values).where(Alert.id == alert.id).execute()
    return alert, created


def _resolve_gone(site: Site, seen: set[tuple[str, str, date]], now: datetime) -> None:
    """Open alerts the detectors no longer report (a stalled product sold again) are over."""
    for alert in Alert.select().where(Alert.site == site.id, Alert.status == "open"):
        if (alert.kind, alert.key, as_date(alert.started_on)) not in seen:
            Alert.update(status="resolved", resolved_at=now).where(Alert.id == alert.id).execute()


def open_alerts(site_id: int) -> list[Alert]:
    return list(
        Alert.select()
        .where(Alert.site == site_id, Alert.status == "open")
        .order_by(Alert.started_on.desc(), Alert.id.desc())
    )
