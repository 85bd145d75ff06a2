"""Sales metrics (DESIGN 4) from daily roll-ups that ingestion keeps current.

The functions the API and the dashboard call; each takes a Site and plain values and returns
plain data (money as Decimal, ratios as float, None with a reason where data allows no number):

    headline(site, first, last, compare=False, currency=None) -> dict
    series(site, metric, interval, first, last, currency=None) -> dict
    breakdown(site, by, first, last, currency=None, limit=100) -> dict
    cohorts(site, interval="month", currency=None) -> dict

The flows call record_touch(...) on each click or open and record_cart_email(...) on each
abandoned-cart email (companion.metrics.attribution).
"""

from __future__ import annotations

from companion.metrics.attribution import record_cart_email, record_touch
from companion.metrics.breakdown import DIMENSIONS, breakdown
from companion.metrics.cohorts import cohorts
from companion.metrics.figures import METRIC_KEYS
from companion.metrics.headline import headline, series
from companion.metrics.periods import INTERVALS

__all__ = [
    "DIMENSIONS",
    "INTERVALS",
    "METRIC_KEYS",
    "breakdown",
    "cohorts",
    "headline",
    "record_cart_email",
    "record_touch",
    "series",
]
