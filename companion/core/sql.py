"""SQL fragments that differ between SQLite, PostgreSQL and MariaDB (local days, dates, execute with
the engine's placeholder), used by the roll-up rebuild, cohorts, alerts, demand and the
dashboard."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from companion.core.days import offset_changes
from companion.core.db import database, is_mysql, is_postgres, param, quote  # noqa: F401 (quote: callers write sql.quote)


def execute(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    cursor = database.execute_sql(sql.replace("{p}", param()), list(params))
    return list(cursor.fetchall()) if cursor.description else []


def local_day(column: str, tz: str, start: datetime, end: datetime) -> str:
    """SQL for the site-local date of a UTC timestamp column (valid for moments in [start, end])."""
    changes = offset_changes(tz, start, end)
    offset = str(changes[0][1])
    if len(changes) > 1:
        whens = " ".join(
            f"WHEN {column} < '{since:%Y-%m-%d %H:%M:%S}' THEN {previous}"
            for (since, _), (_, previous) in zip(changes[1:], changes, strict=False)
        )
        offset = f"(CASE {whens} ELSE {changes[-1][1]} END)"
    if is_postgres():
        return f"CAST({column} + {offset} * INTERVAL '1 second' AS DATE)"
    if is_mysql():
        return f"DATE(DATE_ADD({column}, INTERVAL {offset} SECOND))"
    return f"date({column}, {offset} || ' seconds')"


def month(expression: str) -> str:
    if is_postgres():
        return f"to_char({expression}, 'YYYY-MM')"
    if is_mysql():
        return f"DATE_FORMAT({expression}, '%%Y-%%m')"
    return f"strftime('%Y-%m', {expression})"


def categories_join(item_table: str) -> str:
    """JOIN fragment adding `lc.value`: each distinct category of item `i` (one {p}: the site id).

    PostgreSQL and MariaDB parse each distinct category list once and hash-join it to the items;
    SQLite expands each item's list with json_each and joins by item rowid (it has no hash join).
    """
    if is_postgres() or is_mysql():
        lists = (
            f"SELECT DISTINCT categories FROM {item_table} WHERE site_id = {{p}} AND categories IS "
            "NOT NULL"
        )
        if is_postgres():
            exploded = (
                f"SELECT DISTINCT l.categories, SUBSTR(c.value, 1, 191) AS value FROM ({lists}) l "
                "CROSS JOIN LATERAL json_array_elements_text(CAST(l.categories AS json)) AS "
                "c(value)"
            )
        else:
            exploded = (
                f"SELECT DISTINCT l.categories, SUBSTR(c.value, 1, 191) AS value FROM ({lists}) l, "
                "JSON_TABLE(l.categories, '$[*]' COLUMNS (value VARCHAR(191) PATH '$')) AS c"
            )
        return f"JOIN ({exploded}) lc ON lc.categories = i.categories "
    per_item = (
        f"SELECT DISTINCT j.id AS item_id, SUBSTR(c.value, 1, 191) AS value FROM {item_table} j, "
        "json_each(j.categories) AS c WHERE j.site_id = {p}"
    )
    return f"JOIN ({per_item}) lc ON lc.item_id = i.id "


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
