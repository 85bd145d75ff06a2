"""Demand forecast of one product from its daily units (metric roll-ups), with days of stock left.

The forecast of a day is computed once and cached (`DemandForecastCache`) until the next local day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from peewee import fn

from companion.core.sql import as_date
from companion.intelligence.maths.forecast import days_of_stock, forecast_demand
from companion.models import OrderItem, Product, Site
from companion.models.intelligence import DemandForecastCache
from companion.models.rollups import RollupDimension

HISTORY_DAYS = 112  # sixteen weeks: enough for the four-week rolling backtest and a weekly pattern
MIN_HISTORY_DAYS = 14


def is_known_product(site_id: int, product_id: str) -> bool:
    return (
        Product.select().where(Product.site == site_id, Product.external_id == product_id).exists()
        or OrderItem.select()
        .where(OrderItem.site == site_id, OrderItem.product_id == product_id)
        .exists()
    )


def daily_units(site: Site, product_id: str, last: date) -> np.ndarray:
    first = last - timedelta(days=HISTORY_DAYS - 1)
    d = RollupDimension
    rows = (
        d.select(d.day, fn.SUM(d.quantity))
        .where(
            d.site == site.id,
            d.currency == site.currency,
            d.dimension == "product",
            d.key == product_id,
            d.day.between(first, last),
        )
        .group_by(d.day)
        .tuples()
    )
    units = np.zeros(HISTORY_DAYS)
    for day, n in rows:
        units[(as_date(day) - first).days] = max(float(n or 0), 0.0)
    return units


def _trimmed(units: np.ndarray) -> np.ndarray:
    """Drop the days before the product's first sale (it did not exist yet)."""
    sold = np.flatnonzero(units > 0)
    return units[sold[0] :] if sold.size else units[-MIN_HISTORY_DAYS:]


def forecast(site: Site, product_id: str, days: int, today: date) -> dict[str, Any]:
    """Daily forecast for the next `days` days from `today`'s view of history (cached per day)."""
    last = today - timedelta(days=1)
    cached = DemandForecastCache.get_or_none(site=site.id, product_id=product_id, days=days)
    if cached is not None and as_date(cached.computed_for) == last:
        return dict(cached.payload)
    payload = _compute(site, product_id, days, last)
    DemandForecastCache.delete().where(
        DemandForecastCache.site == site.id,
        DemandForecastCache.product_id == product_id,
        DemandForecastCache.days == days,
    ).execute()
    DemandForecastCache.create(
        site=site.id, product_id=product_id, days=days, computed_for=last, payload=payload
    )
    return payload


def _compute(site: Site, product_id: str, days: int, last: date) -> dict[str, Any]:
    history = _trimmed(daily_units(site, product_id, last))
    if history.size < MIN_HISTORY_DAYS:
        history = np.concatenate([np.zeros(MIN_HISTORY_DAYS - history.size), history])
    result = forecast_demand(history, horizon=days)
    product = Product.get_or_none(Product.site == site.id, Product.external_id == product_id)
    stock = product.stock_quantity if product else None
    return {
        "product_id": product_id,
        "method": result.method,
        "level": result.level,
        "history_days": int(history.size),
        "history_units": float(history.sum()),
        "backtest": {
            name: {"mase": _finite(b.mase), "wape": _finite(b.wape)}
            for name, b in result.backtest.items()
        },
        "days": [
            {
                "date": (last + timedelta(days=k + 1)).isoformat(),
                "units": round(float(result.point[k]), 3),
                "lower": round(float(result.lower[k]), 3),
                "upper": round(float(result.upper[k]), 3),
            }
            for k in range(days)
        ],
        "stock_quantity": stock,
        "days_of_stock": None if stock is None else days_of_stock(stock, result.point),
        "days_of_stock_reason": _stock_reason(stock),
    }


def _stock_reason(stock: int | None) -> str | None:
    if stock is None:
        return "The store does not track this product's stock."
    return None


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
