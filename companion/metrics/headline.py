"""Headline metrics of a period (with the previous one) and any metric as a time series."""

from __future__ import annotations

from datetime import date
from typing import Any

from companion.core.days import days_between
from companion.metrics import reading
from companion.metrics.figures import (
    METRIC_KEYS,
    Context,
    Totals,
    change_percent,
    unit_of,
    value_of,
)
from companion.metrics.periods import Period, buckets
from companion.models import Site

PREDICTIONS_ARE_CURRENT = "Predicted CLV is as of now; there is no value for a past period."


def headline(
    site: Site, first: date, last: date, compare: bool = False, currency: str | None = None
) -> dict[str, Any]:
    """Every metric key of DESIGN 3.3 for the period; with compare, also the previous period."""
    currency = (currency or site.currency).upper()
    period = Period(first, last)
    before = period.previous()
    span = Period(before.first if compare else first, last)
    days = reading.daily_totals(site, currency, span)
    start = reading.cumulative_before(site, currency, span.first)
    has_views = reading.has_page_views(site)
    now = _figures(site, currency, period, days, start, has_views, predicted=True)
    answer: dict[str, Any] = {
        "currency": currency,
        "period": {"from": first, "to": last},
        "previous": None,
    }
    if compare:
        then = _figures(site, currency, before, days, start, has_views, predicted=False)
        answer["previous"] = {"from": before.first, "to": before.last}
        answer["metrics"] = {k: _with_previous(now[k], then[k]) for k in METRIC_KEYS}
    else:
        answer["metrics"] = now
    return answer


def _figures(
    site: Site,
    currency: str,
    period: Period,
    days: dict[date, Totals],
    start: Totals,
    has_views: bool,
    predicted: bool,
) -> dict[str, dict[str, Any]]:
    totals = _sum(v for d, v in days.items() if period.contains(d))
    cumulative = start.add(_sum(v for d, v in days.items() if d <= period.last))
    context = Context(
        cumulative=cumulative,
        has_page_views=has_views,
        connected_on=reading.connected_on(site),
        retention=reading.retention(site, currency, period),
        predicted=reading.predicted_clv(site, currency, cumulative, period.last)
        if predicted
        else (None, PREDICTIONS_ARE_CURRENT),
    )
    out = {}
    for key in METRIC_KEYS:
        value, reason = value_of(key, totals, context)
        out[key] = {"value": value, "unit": unit_of(key), "reason": reason}
    return out


def _with_previous(now: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    return {
        **now,
        "previous": then["value"],
        "previous_reason": then["reason"],
        "change_percent": change_percent(now["value"], then["value"]),
    }


def _sum(items: Any) -> Totals:
    return Totals.sum_of(items)


CUMULATIVE_METRICS = ("clv_historic", "clv_predicted", "repeat_purchase_rate")


def series(
    site: Site,
    metric: str,
    interval: str,
    first: date,
    last: date,
    currency: str | None = None,
    days: dict[date, Totals] | None = None,
) -> dict[str, Any]:
    """One metric per day, ISO week or calendar month of the site's time zone. `days`: the daily
    totals of at least these days in this currency, if the caller read them already."""
    if metric not in METRIC_KEYS:
        raise ValueError(f"metric must be one of {', '.join(METRIC_KEYS)}")
    currency = (currency or site.currency).upper()
    period = Period(first, last)
    if days is None:
        days = reading.daily_totals(site, currency, period)
    cumulative = (
        reading.cumulative_before(site, currency, first)
        if metric in CUMULATIVE_METRICS
        else Totals()
    )
    has_views = reading.has_page_views(site) if metric == "conversion_rate" else True
    points = []
    for bucket in buckets(period, interval):
        totals = _sum(days[d] for d in days_between(bucket.first, bucket.last) if d in days)
        if metric in CUMULATIVE_METRICS:
            cumulative = cumulative.add(totals)
        context = Context(
            cumulative=cumulative,
            has_page_views=has_views,
            connected_on=reading.connected_on(site),
            retention=_retention_if(site, currency, bucket, metric),
            predicted=_predicted_if(site, currency, cumulative, bucket, metric),
        )
        value, reason = value_of(metric, totals, context)
        points.append({"from": bucket.first, "to": bucket.last, "value": value, "reason": reason})
    return {
        "metric": metric,
        "unit": unit_of(metric),
        "interval": interval,
        "currency": currency,
        "period": {"from": first, "to": last},
        "points": points,
    }


def _retention_if(site: Site, currency: str, bucket: Period, metric: str) -> tuple[int, int] | None:
    return reading.retention(site, currency, bucket) if metric == "retention_rate" else None


def _predicted_if(
    site: Site, currency: str, cumulative: Totals, bucket: Period, metric: str
) -> Any:
    if metric != "clv_predicted":
        return None, None
    return reading.predicted_clv(site, currency, cumulative, bucket.last)
