"""Every metric of DESIGN 4 as a function of summed roll-up figures (one place for the algebra)."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

METRIC_KEYS = (
    "total_revenue",
    "refunds",
    "net_revenue",
    "orders",
    "aov",
    "conversion_rate",
    "cart_abandonment_rate",
    "clv_historic",
    "clv_predicted",
    "retention_rate",
    "repeat_purchase_rate",
    "refund_rate_count",
    "refund_rate_value",
    "email_revenue",
    "recovered_revenue",
)
MONEY_METRICS = {
    "total_revenue",
    "refunds",
    "net_revenue",
    "aov",
    "clv_historic",
    "clv_predicted",
    "email_revenue",
    "recovered_revenue",
}
COUNT_METRICS = {"orders"}
CENT = Decimal("0.01")
UNITS = 10_000  # MoneyField stores 1/10,000 units
RATIO_PLACES = 6


def unit_of(metric: str) -> str:
    return "money" if metric in MONEY_METRICS else "count" if metric in COUNT_METRICS else "ratio"


TOTAL_NAMES = (
    "orders",
    "revenue",
    "refunds",
    "refunded_orders",
    "placed_refunds",
    "new_customers",
    "new_repeaters",
    "sessions",
    "converted",
    "abandoned",
    "carts_converted",
    "email_revenue",
    "email_refunds",
    "recovered_revenue",
)


_ALL = operator.attrgetter(*TOTAL_NAMES)


class Totals:
    """Sums over some days. Money is kept in stored units (1/10,000) as int: exact and fast to
    add."""

    __slots__ = TOTAL_NAMES
    orders: int
    revenue: int
    refunds: int
    refunded_orders: int
    placed_refunds: int
    new_customers: int
    new_repeaters: int
    sessions: int
    converted: int
    abandoned: int
    carts_converted: int
    email_revenue: int
    email_refunds: int
    recovered_revenue: int

    def __init__(self, **values: int) -> None:
        for name in TOTAL_NAMES:
            setattr(self, name, int(values.get(name) or 0))

    @classmethod
    def _of(cls, values: Iterable[int]) -> Totals:
        """From ints in TOTAL_NAMES' order (no conversion: sums of Totals are ints already)."""
        out = object.__new__(cls)
        for name, value in zip(TOTAL_NAMES, values, strict=True):
            setattr(out, name, value)
        return out

    def add(self, other: Totals) -> Totals:
        """A new Totals: self + other."""
        return Totals._of(map(operator.add, _ALL(self), _ALL(other)))

    @staticmethod
    def sum_of(items: Iterable[Totals]) -> Totals:
        columns = list(zip(*map(_ALL, items)))  # a year of days is summed column by column
        return Totals._of([sum(c) for c in columns] if columns else [0] * len(TOTAL_NAMES))

    def __repr__(self) -> str:
        return "Totals(" + ", ".join(f"{n}={getattr(self, n)}" for n in TOTAL_NAMES) + ")"


@dataclass
class Context:
    """What a metric needs besides the period's sums."""

    cumulative: Totals  # everything up to the period's last day
    has_page_views: bool
    retention: tuple[int, int] | None  # (customers of the previous period, of those ordered again)
    predicted: tuple[Decimal | None, str | None]  # clv_predicted value or the reason there is none
    connected_on: date | None = (
        None  # the site's first local day: since when page views could have come
    )


Value = tuple[Any, str | None]  # (value or None, reason when None)


def value_of(metric: str, t: Totals, c: Context) -> Value:
    return _FUNCTIONS[metric](t, c)


def ratio(numerator: Any, denominator: Any) -> float:
    return round(float(Decimal(numerator) / Decimal(denominator)), RATIO_PLACES)


def money(units: int) -> Decimal:
    """Stored units as an amount: two decimals unless the amount has more (three-decimal
    currencies)."""
    amount = Decimal(units) / UNITS
    return amount.quantize(CENT) if amount == amount.quantize(CENT) else amount.normalize()


def per(units: int, count: int) -> Decimal:
    """An amount divided by a count, rounded half up to the cent (AOV, CLV)."""
    return (Decimal(units) / UNITS / count).quantize(CENT, ROUND_HALF_UP)


def _aov(t: Totals, c: Context) -> Value:
    if not t.orders:
        return None, "No counted orders in this period."
    return per(t.revenue, t.orders), None


def _conversion(t: Totals, c: Context) -> Value:
    if not c.has_page_views:
        return None, no_page_views_reason(c)
    if not t.sessions:
        return None, "No sessions started in this period."
    return ratio(t.converted, t.sessions), None


def no_page_views_reason(c: Context) -> str:
    """What the service saw, and since when: no page view at all is not proof the tracker is missing
    (it may be on in a shop nobody has browsed yet), so say what did arrive instead of guessing."""
    since = (
        f" since this store was connected on {c.connected_on.isoformat()}" if c.connected_on else ""
    )
    orders = c.cumulative.orders
    seen = f", though {orders} order{'' if orders == 1 else 's'} did" if orders else ""
    return (
        f"No page views have arrived{since}{seen}, so sessions are unknown. The plugin's tracker "
        "sends "
        "one per page a shopper opens."
    )


def _abandonment(t: Totals, c: Context) -> Value:
    carts = t.abandoned + t.carts_converted
    if not carts:
        return None, "No carts with items were created in this period."
    return ratio(t.abandoned, carts), None


def _clv_historic(t: Totals, c: Context) -> Value:
    if not c.cumulative.new_customers:
        return None, "No customers with counted orders yet."
    net = c.cumulative.revenue - c.cumulative.refunds
    return per(net, c.cumulative.new_customers), None


def _retention(t: Totals, c: Context) -> Value:
    if c.retention is None or not c.retention[0]:
        return None, "No customers ordered in the previous period."
    return ratio(c.retention[1], c.retention[0]), None


def _repeat(t: Totals, c: Context) -> Value:
    if not c.cumulative.new_customers:
        return None, "No customers with counted orders yet."
    return ratio(c.cumulative.new_repeaters, c.cumulative.new_customers), None


def _refund_count(t: Totals, c: Context) -> Value:
    if not t.orders:
        return None, "No counted orders in this period."
    return ratio(t.refunded_orders, t.orders), None


def _refund_value(t: Totals, c: Context) -> Value:
    if not t.revenue:
        return None, "No revenue in this period."
    return ratio(t.placed_refunds, t.revenue), None


_FUNCTIONS: dict[str, Any] = {
    "total_revenue": lambda t, c: (money(t.revenue), None),
    "refunds": lambda t, c: (money(t.refunds), None),
    "net_revenue": lambda t, c: (money(t.revenue - t.refunds), None),
    "orders": lambda t, c: (t.orders, None),
    "aov": _aov,
    "conversion_rate": _conversion,
    "cart_abandonment_rate": _abandonment,
    "clv_historic": _clv_historic,
    "clv_predicted": lambda t, c: c.predicted,
    "retention_rate": _retention,
    "repeat_purchase_rate": _repeat,
    "refund_rate_count": _refund_count,
    "refund_rate_value": _refund_value,
    "email_revenue": lambda t, c: (money(t.email_revenue - t.email_refunds), None),
    "recovered_revenue": lambda t, c: (money(t.recovered_revenue), None),
}


def change_percent(value: Any, previous: Any) -> float | None:
    """Change against the previous period in percent; None when there is nothing to compare to."""
    if value is None or previous is None or previous == 0:
        return None
    return round(
        float((Decimal(str(value)) - Decimal(str(previous))) / abs(Decimal(str(previous))) * 100), 2
    )
