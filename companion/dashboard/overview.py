"""The overview page: channels, and open alerts with what to do about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from companion import metrics
from companion.dashboard import figures
from companion.dashboard.periods import Period
from companion.dashboard.tables import Table, col
from companion.intelligence.maths.anomalies import (
    Incident,
    detect_incidents,
    detect_rate_incidents,
    open_incident,
)
from companion.models import Site
from companion.models.base import money_from_units

ALERT_HISTORY_DAYS = 63  # eight weeks of same-weekday baseline, and the week being judged
SOURCE_TYPES = {
    "organic": "Organic search",
    "typein": "Direct",
    "referral": "Referral",
    "utm": "Campaign",
    "admin": "Added in admin",
    "mobile_app": "Mobile app",
    "(none)": "Unknown",
}


def alert_days(today: date) -> tuple[date, date]:
    """The days the alerts judge: eight weeks of baseline and the week being judged, up to
    yesterday (today is not over yet; judging it would cry wolf every morning)."""
    return today - timedelta(days=ALERT_HISTORY_DAYS), today - timedelta(days=1)


@dataclass(frozen=True)
class Alert:
    title: str
    detail: str
    action: str
    severity: str = "warning"


def channel_label(key: str) -> str:
    """`organic / google` -> `Organic search · google` (the metrics' channel key, in words)."""
    kind, _, source = key.partition(" / ")
    if source == "sales-companion":  # the utm_source of every tracked link in our own emails
        return "Email · Sales Companion"
    name = SOURCE_TYPES.get(kind, kind.capitalize())
    return f"{name} · {source}" if source else name


def channels(site: Site, period: Period) -> Table:
    groups = metrics.breakdown(site, "channel", period.first, period.last)["groups"]
    revenue = sum(g["revenue"] for g in groups)
    rows = [
        {
            "channel": channel_label(g["key"]),
            "orders": g["orders"],
            "revenue": g["revenue"],
            "aov": g["aov"],
            "share": float(g["revenue"] / revenue) if revenue else None,
        }
        for g in groups
    ]
    return Table(
        "channels",
        "Revenue by channel",
        [
            col("channel", "Channel"),
            col("orders", "Orders", "count"),
            col("revenue", "Revenue", "money"),
            col("aov", "AOV", "money"),
            col("share", "Share", "percent"),
        ],
        rows,
        empty="No counted orders in this period.",
    )


def alerts(site: Site, today: date, days: dict[date, figures.Totals] | None = None) -> list[Alert]:
    """Open alerts: revenue or conversion below their weekday baseline, refunds above it.
    `days`: the daily totals of at least the last ALERT_HISTORY_DAYS days, if already read."""
    first, last = alert_days(today)
    if days is None:
        days = figures.totals(site, first, last)
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    row = [days.get(d, figures.Totals()) for d in dates]
    found: list[Alert] = []
    revenue = open_incident(
        detect_incidents([float(money_from_units(d.revenue)) for d in row], direction="drop")
    )
    if revenue:
        found.append(
            _alert(
                "Revenue is down",
                revenue,
                dates,
                site.currency,
                "danger",
                "Check checkout and payments first (a failing payment method looks like this), "
                "then traffic sources and the stock of your best sellers.",
            )
        )
    if sum(d.sessions for d in row):
        conversion = open_incident(
            detect_rate_incidents(
                [d.converted for d in row], [d.sessions for d in row], direction="drop"
            )
        )
        if conversion:
            found.append(
                _alert(
                    "Conversion rate dropped",
                    conversion,
                    dates,
                    "",
                    "warning",
                    "Place a test order on a phone and a desktop; look for a broken cart, a "
                    "shipping-rate error or a slow page.",
                    rate=True,
                )
            )
    refunds = open_incident(
        detect_incidents([float(money_from_units(d.refunds)) for d in row], direction="spike")
    )
    if refunds:
        found.append(
            _alert(
                "Refunds are up",
                refunds,
                dates,
                site.currency,
                "warning",
                "Open Products and look at the refund rate per product: a faulty batch usually "
                "shows on one item.",
            )
        )
    return found


def _alert(
    title: str,
    incident: Incident,
    dates: list[date],
    currency: str,
    severity: str,
    action: str,
    rate: bool = False,
) -> Alert:
    since = dates[incident.start]
    if rate:
        detail = f"{incident.observed * 100:.1f}% against a usual {incident.baseline * 100:.1f}%"
    elif incident.baseline < 0.005:
        return Alert(
            title,
            f"Since {since:%a %d %b}: {incident.observed:,.2f} {currency} a day, where a usual "
            f"day has close to none.",
            action,
            severity,
        )
    else:
        detail = (
            f"{incident.observed:,.2f} {currency} a day against a usual {incident.baseline:,.2f} "
            f"{currency}"
        )
    return Alert(
        title,
        f"Since {since:%a %d %b}: {detail} ({incident.relative_change * 100:+.0f}%).",
        action,
        severity,
    )
