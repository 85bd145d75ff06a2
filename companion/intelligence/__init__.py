"""Customer intelligence: pure numpy/scipy functions over per-customer and per-product arrays.

Modules: bgnbd (repeat purchases, P(alive)), gammagamma (spend, predicted CLV), rfm,
lifecycle, basket (bought together), forecast (demand, days of stock), anomalies (alerts),
gate (the data gate). Nothing here touches the database; callers pass arrays in.
"""
from __future__ import annotations

from companion.intelligence.gate import data_gate

__all__ = ["data_gate"]
