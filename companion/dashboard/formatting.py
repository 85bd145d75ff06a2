"""How numbers read on the page: money with its currency, percentages, changes with their sign."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from companion.dashboard.blueprint import bp
from companion.dashboard.tables import cell_text


@bp.app_template_filter("cell")
def cell(value: Any, kind: str) -> str:
    return cell_text(value, kind)


@bp.app_template_filter("metric")
def metric_value(value: Any, unit: str, currency: str = "") -> str:
    """The number alone; the template sets a money card's currency beside it, smaller."""
    if value is None:
        return "–"
    if unit == "money":
        return cell_text(value, "money") + (f" {currency}" if currency else "")
    return cell_text(value, "percent" if unit == "percent" else "count")


@bp.app_template_filter("change")
def change(value: float | None) -> str:
    if value is None:
        return "no comparison"
    shown = round(value * 100, 1)
    arrow = "▲" if shown > 0 else "▼" if shown < 0 else "■"
    return f"{arrow} {abs(shown):.1f}%"


@bp.app_template_filter("local_date")
def local_date(value: datetime | None, timezone: str) -> str:
    return "–" if value is None else value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")


def change_class(value: float | None, higher_is_better: bool) -> str:
    if value is None or abs(value) < 0.005:
        return "flat"
    return "good" if (value > 0) == higher_is_better else "bad"


bp.add_app_template_global(change_class, "change_class")
