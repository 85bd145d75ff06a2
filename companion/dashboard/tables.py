"""A table as the dashboard shows it and as its CSV export writes it: the same rows, same
columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from companion.dashboard.definitions import COLUMN_HELP


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, money, count, percent, ratio, date, link
    help: str | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "count", "percent", "ratio")


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    empty: str = "Nothing here yet."
    caption: str | None = None


def col(key: str, label: str, kind: str = "text", help_key: str | None = None) -> Column:
    return Column(key, label, kind, COLUMN_HELP.get(help_key or key))


def cell_text(value: Any, kind: str) -> str:
    """The exact text a cell shows, so the page and its CSV agree."""
    if value is None:
        return "–"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"
    if kind == "ratio":
        return f"{float(value):.2f}"
    if kind == "count":
        return f"{int(value):,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_value(value: Any, kind: str) -> str:
    """Machine-readable: plain numbers (no thousands separators), fractions for percentages."""
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if kind == "percent":
        return f"{float(value):.4f}"
    if kind == "ratio":
        return f"{float(value):.2f}"
    return cell_text(value, kind)


def to_csv(table: Table) -> str:
    return "".join(csv_lines(table))


def csv_lines(table: Table) -> Iterator[str]:
    """The CSV one line at a time (the export streams them: the first byte leaves at once)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for values in (
        [c.label for c in table.columns],
        *([_safe(csv_value(row.get(c.key), c.kind)) for c in table.columns] for row in table.rows),
    ):
        writer.writerow(values)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _safe(text: str) -> str:
    """Keep spreadsheet apps from running a cell as a formula (CSV injection)."""
    return (
        "'" + text
        if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _is_number(text))
        else text
    )


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False
