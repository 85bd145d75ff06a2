"""Write every customer's scores back in bulk: rows into a temporary table, then one UPDATE ... FROM
(SQLite 3.33+, PostgreSQL) or UPDATE ... JOIN (MariaDB). Contacts without a counted order become
leads in one more UPDATE. Never a statement per customer.
"""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any

import numpy as np

from companion.core.db import database, is_mysql, is_postgres, param, quote
from companion.intelligence.scoring import Scores
from companion.intelligence.stage_groups import write_stage_groups
from companion.models import Contact
from companion.models.base import MONEY_SCALE

TEMP = "intel_scores"
CHUNK = 2_000
# (contact column, temp column type on SQLite / PostgreSQL / MariaDB)
COLUMNS: list[tuple[str, tuple[str, str, str]]] = [
    ("stage", ("TEXT", "VARCHAR(20)", "VARCHAR(20)")),
    ("stage_reason", ("TEXT", "TEXT", "TEXT")),
    ("rfm_r", ("INTEGER", "INTEGER", "INTEGER")),
    ("rfm_f", ("INTEGER", "INTEGER", "INTEGER")),
    ("rfm_m", ("INTEGER", "INTEGER", "INTEGER")),
    ("rfm_segment", ("TEXT", "VARCHAR(40)", "VARCHAR(40)")),
    ("p_alive", ("REAL", "DOUBLE PRECISION", "DOUBLE")),
    ("expected_purchases_90", ("REAL", "DOUBLE PRECISION", "DOUBLE")),
    ("expected_purchases_365", ("REAL", "DOUBLE PRECISION", "DOUBLE")),
    ("expected_next_order_at", ("TEXT", "TIMESTAMP", "DATETIME")),
    ("predicted_clv_365", ("INTEGER", "BIGINT", "BIGINT")),
]
LEAD_REASON = "no counted order yet"


def _engine() -> int:
    return 2 if is_mysql() else 1 if is_postgres() else 0


def rows(scores: Scores) -> list[tuple[Any, ...]]:
    """One tuple per customer, in COLUMNS order after the contact id; None for no prediction."""

    def floats(values: np.ndarray) -> list[float | None]:
        return [None if math.isnan(v) else v for v in values.astype(float).round(6).tolist()]

    text = _engine() == 0  # SQLite stores times as text, as Peewee writes them
    nxt = [
        None if d is None else (f"{d:%Y-%m-%d %H:%M:%S}" if text else d.replace(microsecond=0))
        for d in scores.next_order_at.astype(datetime).tolist()
    ]
    clv = [None if math.isnan(v) else round(v * MONEY_SCALE) for v in scores.clv_365.tolist()]
    return list(
        zip(
            scores.contact_id.tolist(),
            scores.stage.tolist(),
            scores.reason,
            scores.r.tolist(),
            scores.f.tolist(),
            scores.m.tolist(),
            scores.segment.tolist(),
            floats(scores.p_alive),
            floats(scores.expected_90),
            floats(scores.expected_365),
            nxt,
            clv,
            strict=True,
        )
    )


def write_scores(
    site_id: int, scores: Scores, *, only: list[int] | None = None, at: datetime | None = None
) -> int:
    """Store the scores of every customer given; every other contact of the site (or of `only`) is a
    lead.
    A full write (no `only`) also rewrites the site's stage and segment counts, as of `at`."""
    data = rows(scores)
    _create_temp()
    try:
        _fill(data)
        database.execute_sql(_update_sql(), [site_id])
        _mark_leads(site_id, only)
        if only is None:  # every contact rescored: the stage and segment counts follow
            if at is None:
                raise ValueError("a full write needs the moment its stage counts are as of")
            write_stage_groups(site_id, at)
    finally:
        _drop_temp()
    return len(data)


def _create_temp() -> None:
    engine = _engine()
    cols = ", ".join(f"{name} {types[engine]}" for name, types in COLUMNS)
    _drop_temp()
    database.execute_sql(f"CREATE TEMPORARY TABLE {TEMP} (contact_id BIGINT PRIMARY KEY, {cols})")


def _drop_temp() -> None:
    database.execute_sql(f"DROP {'TEMPORARY ' if _engine() == 2 else ''}TABLE IF EXISTS {TEMP}")


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _copy(data: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: COPY is ten times faster than multi-row INSERTs for 200,000 rows."""
    text = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in data)
    columns = ", ".join(["contact_id", *(n for n, _ in COLUMNS)])
    database.cursor().copy_expert(f"COPY {TEMP} ({columns}) FROM STDIN", io.StringIO(text))


def _fill(data: list[tuple[Any, ...]]) -> None:
    if _engine() == 1:
        _copy(data)
        return
    one = "(" + ", ".join([param()] * (len(COLUMNS) + 1)) + ")"
    head = f"INSERT INTO {TEMP} (contact_id, {', '.join(n for n, _ in COLUMNS)}) VALUES "
    cursor = database.cursor()
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        cursor.execute(head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row])


def _update_sql() -> str:
    table = quote(Contact._meta.table_name)
    if _engine() == 2:
        sets = ", ".join(f"c.{n} = s.{n}" for n, _ in COLUMNS)
        return (
            f"UPDATE {table} c JOIN {TEMP} s ON c.id = s.contact_id SET {sets} WHERE c.site_id = %s"
        )
    sets = ", ".join(f"{n} = s.{n}" for n, _ in COLUMNS)
    # The IN names the rows: without it SQLite walks every contact of the site and probes the
    # temporary table for each, though a batch's rescore writes a few hundred.
    return (
        f"UPDATE {table} SET {sets} FROM {TEMP} s WHERE {table}.id = s.contact_id AND "
        f"{table}.site_id = {param()}"
        f" AND {table}.id IN (SELECT contact_id FROM {TEMP})"
    )


def _mark_leads(site_id: int, only: list[int] | None) -> None:
    table = quote(Contact._meta.table_name)
    nulls = ", ".join(f"{n} = NULL" for n, _ in COLUMNS[2:])
    among = "" if only is None else f" AND id IN ({', '.join(str(int(i)) for i in only) or 'NULL'})"
    database.execute_sql(
        f"UPDATE {table} SET stage = 'lead', stage_reason = {param()}, {nulls} WHERE site_id = "
        f"{param()}{among} "
        f"AND NOT EXISTS (SELECT 1 FROM {TEMP} s WHERE s.contact_id = {table}.id)",
        [LEAD_REASON, site_id],
    )


def insert_rows(model: Any, fields: list[str], data: list[tuple[Any, ...]]) -> None:
    """Multi-row INSERTs of plain values (already in their stored form), CHUNK rows at a time."""
    columns = ", ".join(quote(model._meta.fields[f].column_name) for f in fields)
    one = "(" + ", ".join([param()] * len(fields)) + ")"
    head = f"INSERT INTO {quote(model._meta.table_name)} ({columns}) VALUES "
    cursor = database.cursor()
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        cursor.execute(head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row])
