"""Multi-row INSERTs written as one SQL string per chunk, on SQLite, PostgreSQL and MariaDB.

Peewee's `insert_many` builds every value as a node of its query tree and renders it again,
which costs more than the database's own work for the wide batches applying events writes
(about 3 µs per value). Here each column's `db_value` converts the values (the same conversion
peewee applies, so rows read back identically) and the statement text is built once per chunk
shape. Three conflict modes cover the callers: fail, skip the row, or add the values to the
existing row (the additive roll-up upsert). On PostgreSQL, from ARRAYS_FROM rows on, each column
goes as one array parameter instead (below, "One array per column").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from types import NoneType
from typing import Any

from peewee import (
    SQL,
    BooleanField,
    CharField,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    Node,
    TextField,
)
from psycopg2.extras import execute_batch

from companion.core.db import database, is_mysql, is_postgres, param, quote

MAX_PARAMS = 30_000  # under SQLite's 32,766 and MariaDB's 65,535 placeholders per statement
MAX_ROWS = 500
PG_ROWS = 5_000  # PostgreSQL: rows per statement, a parameter per column (arrays, below)
# PostgreSQL: arrays from this many rows; below, a VALUES list or a statement per row costs less
# (1 order: 0.28 against 0.38 ms; 10: 0.90 against 0.75; 500: 33 against 18).
ARRAYS_FROM = 5


def insert_rows(
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
    add_on: tuple[str, ...] | None = None,
    returning: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """Insert rows (dicts keyed by field name); a field a row leaves out gets its default (or
    NULL), as with `insert_many`.

    ignore_conflicts: a row that breaks a unique key is skipped (INSERT OR IGNORE / ON CONFLICT
    DO NOTHING / INSERT IGNORE). add_on: the unique key's field names; a row whose key exists adds
    its other values to the stored ones inside the statement (nothing is read first).
    returning: these fields of the rows the statements inserted, raw as the driver gives them; with
    ignore_conflicts, a row skipped for a conflict is not among them (SQLite 3.35+, PostgreSQL,
    MariaDB 10.5+; the UPDATE ... FROM of the score write-back already needs SQLite 3.33)."""
    if not rows:
        return []
    first = rows[0].keys()
    if all(row.keys() == first for row in rows):  # the usual case: every row names the same fields
        names = list(first)
    else:
        names = list(dict.fromkeys(name for row in rows for name in row))
    fields = model._meta.fields
    defaults = [f for name, f in fields.items() if name not in names and f.default is not None]
    if any(len(row) != len(names) for row in rows):  # rows that leave a column out get its default
        rows = [
            row
            if len(row) == len(names)
            else {n: row[n] if n in row else _default(fields[n]) for n in names}
            for row in rows
        ]
    named = [(n, fields[n].db_value, _ready_type(fields[n])) for n in names]
    defaulted = [(f, f.db_value) for f in defaults]
    columns = tuple([fields[n].column_name for n in names] + [f.column_name for f in defaults])
    added = tuple(fields[n].column_name for n in names if n not in add_on) if add_on else ()
    key = tuple(fields[n].column_name for n in add_on) if add_on else ()

    def values_of(chunk: Sequence[Mapping[str, Any]]) -> list[Any]:
        # Column by column, with the loops over values in C (map, set): this runs once per value
        # written. A plain column whose values are all of its type (or None) goes as it is.
        columns_values: list[list[Any]] = []
        for n, convert, ready in named:
            values = list(map(itemgetter(n), chunk))
            if ready is None:
                values = list(map(convert, values))
            elif not set(map(type, values)) <= {ready, NoneType}:
                values = [v if v is None or type(v) is ready else convert(v) for v in values]
            columns_values.append(values)
        for f, convert in defaulted:
            columns_values.append([convert(_default(f)) for _ in chunk])
        return list(chain.from_iterable(zip(*columns_values, strict=True)))

    return _insert(model, columns, rows, values_of, ignore_conflicts, key, added, returning)


def insert_values(
    model: type[Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    returning: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """`insert_rows` for rows built as the database takes them: a tuple per row of the fields
    `names`, each value already its column's database value (what the field's db_value gives; no
    defaults are added). For the widest rows applying writes, built straight from event data."""
    if not rows:
        return []
    fields = model._meta.fields
    columns = tuple(fields[n].column_name for n in names)

    def values_of(chunk: Sequence[Sequence[Any]]) -> list[Any]:
        return list(chain.from_iterable(chunk))

    return _insert(model, columns, rows, values_of, ignore_conflicts, (), (), returning)


def _insert(
    model: type[Model],
    columns: tuple[str, ...],
    rows: Sequence[Any],
    values_of: Callable[[Sequence[Any]], list[Any]],
    ignore_conflicts: bool,
    key: tuple[str, ...],
    added: tuple[str, ...],
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    fields = model._meta.fields
    table = model._meta.table_name
    arrays = is_postgres() and len(rows) >= ARRAYS_FROM
    per_chunk = PG_ROWS if arrays else max(1, min(MAX_ROWS, MAX_PARAMS // len(columns)))
    tail = (
        " RETURNING " + ", ".join(quote(fields[n].column_name) for n in returning)
        if returning
        else ""
    )
    inserted: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per_chunk):
        chunk = rows[start : start + per_chunk]
        values = values_of(chunk)
        if arrays:
            types = column_types(table, columns)
            sql = _unnest_statement(table, columns, types, ignore_conflicts, key, added)
            params: list[Any] = [
                array_literal(values[i :: len(columns)]) for i in range(len(columns))
            ]
        else:
            sql, params = (
                _statement(table, columns, len(chunk), ignore_conflicts, key, added),
                values,
            )
        cursor = database.execute_sql(sql + tail, params)
        if returning:
            inserted.extend(tuple(row) for row in cursor.fetchall())
    return inserted


def among(field: Any, values: Sequence[Any]) -> Any:
    """`field IN (values)` for a long list, rendered as one SQL fragment: integers inline (after
    int(), so nothing but digits reaches the SQL), anything else as parameters. Peewee's
    `field.in_(list)` builds a node per value, ~18 µs each: 9 ms for the usual 500 ids."""
    if not values:
        return field.in_([])
    if all(type(v) is int for v in values):
        return field.in_(SQL("(" + ",".join(str(int(v)) for v in values) + ")"))
    if all(type(v) is str for v in values):
        return field.in_(_TextParameters(list(values)))
    return field.in_(SQL("(" + ",".join([param()] * len(values)) + ")", list(values)))


class _TextParameters(Node):
    """`(?, ?, ...)` for a list of str values, added to the query's parameters in one step: peewee's
    `SQL(text, params)` adds them one call each (~7 µs), 500 calls for a batch's emails. A value
    rendered as a literal (`value_literals`, only when peewee prints a query) takes that path."""

    def __init__(self, values: list[str]) -> None:
        self.values = values

    def __sql__(self, ctx: Any) -> Any:
        placeholders = "(" + ",".join([param()] * len(self.values)) + ")"
        if ctx.state.value_literals:
            return ctx.sql(SQL(placeholders, self.values))
        ctx.literal(placeholders)
        ctx._values.extend(self.values)
        return ctx


def _ready_type(field: Any) -> type | None:
    """The value type a plain peewee field writes unchanged (its db_value passes None through and
    int() or str() of an int or str is the value), so insert_rows can skip the call; None for
    fields with their own conversion (times, JSON, money). (A BooleanField's is bool().)"""
    if isinstance(field, ForeignKeyField):
        return _ready_type(field.rel_field)
    if type(field).db_value is not Field.db_value:
        return None
    if isinstance(field, BooleanField):
        return bool
    if isinstance(field, IntegerField):
        return int
    if isinstance(field, CharField | TextField):
        return str
    return None


def _default(field: Any) -> Any:
    return field.default() if callable(field.default) else field.default


def update_by_id(
    model: type[Model], changes: Mapping[int, Mapping[str, Any]], names: Sequence[str]
) -> None:
    """Set `names` of each row whose id is a key of `changes` (every row gives every name): one
    prepared UPDATE run for all rows by the driver (psycopg2 sends them 100 to a round trip)."""
    if not changes:
        return
    fields = model._meta.fields
    converters = [fields[n].db_value for n in names]
    if is_postgres() and len(changes) >= ARRAYS_FROM:
        _update_from_arrays(model, changes, names, converters)
        return
    p = param()
    sql = (
        f"UPDATE {quote(model._meta.table_name)} SET "
        + ", ".join(f"{quote(fields[n].column_name)} = {p}" for n in names)
        + f" WHERE {quote(model._meta.primary_key.column_name)} = {p}"
    )
    params = [
        [convert(changes[row_id][n]) for convert, n in zip(converters, names, strict=True)]
        + [row_id]
        for row_id in sorted(changes)
    ]
    execute_many(sql, params)


def _update_from_arrays(
    model: type[Model],
    changes: Mapping[int, Mapping[str, Any]],
    names: Sequence[str],
    converters: list[Callable[[Any], Any]],
) -> None:
    """PostgreSQL: one UPDATE ... FROM unnest(arrays) per PG_ROWS rows, where the driver would send
    a statement per row (each parsed and planned on its own: 500 contacts' totals took 54-69 ms in
    5 trips, now 17-18 ms in one). The ids go sorted, and the plan (a nested loop over the array
    into the primary key) takes them in that order as the statements per row did; the server does
    not promise it, so a deadlock between two workers is possible and, like any, retried
    (`retry_deadlocks`)."""
    table = model._meta.table_name
    key = model._meta.primary_key.column_name
    columns = tuple(model._meta.fields[n].column_name for n in names)
    types = column_types(table, (key, *columns))
    ids = sorted(changes)
    for start in range(0, len(ids), PG_ROWS):
        chunk = ids[start : start + PG_ROWS]
        params = [array_literal(chunk)] + [
            array_literal([convert(changes[i][n]) for i in chunk])
            for convert, n in zip(converters, names, strict=True)
        ]
        database.execute_sql(_update_statement(table, key, columns, types), params)


@lru_cache(maxsize=64)
def _update_statement(
    table: str, key: str, columns: tuple[str, ...], types: tuple[str, ...]
) -> str:
    q = quote
    aliases = [f"v{i}" for i in range(len(columns))]
    return (
        f"UPDATE {q(table)} SET "
        + ", ".join(f"{q(c)} = v.{a}" for c, a in zip(columns, aliases, strict=True))
        + f" FROM unnest({', '.join(f'%s::{t}[]' for t in types)}) AS v(k, {', '.join(aliases)})"
        + f" WHERE {q(table)}.{q(key)} = v.k"
    )


def execute_many(sql: str, params: Sequence[Sequence[Any]]) -> None:
    """One prepared statement run for every parameter row, in order (psycopg2 sends them 100 to a
    round trip; SQLite and MariaDB's drivers loop without building a query per row)."""
    if not params:
        return
    cursor = database.cursor()
    if is_postgres():
        execute_batch(cursor, sql, params, page_size=100)
    else:
        cursor.executemany(sql, params)


def _statement(
    table: str,
    columns: tuple[str, ...],
    count: int,
    ignore: bool,
    key: tuple[str, ...],
    added: tuple[str, ...],
) -> str:
    engine = "mysql" if is_mysql() else "postgres" if is_postgres() else "sqlite"
    return _cached_statement(engine, table, columns, count, ignore, key, added)


@lru_cache(maxsize=256)
def _cached_statement(
    engine: str,
    table: str,
    columns: tuple[str, ...],
    count: int,
    ignore: bool,
    key: tuple[str, ...],
    added: tuple[str, ...],
) -> str:
    q, p = quote, param()  # the engine is part of the cache key, and these follow the bound engine
    one = "(" + ", ".join([p] * len(columns)) + ")"
    verb = "INSERT"
    if ignore:
        verb = {"sqlite": "INSERT OR IGNORE", "mysql": "INSERT IGNORE", "postgres": "INSERT"}[
            engine
        ]
    sql = (
        f"{verb} INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES "
        f"{', '.join([one] * count)}"
    )
    if ignore and engine == "postgres":
        sql += " ON CONFLICT DO NOTHING"
    if key:
        if engine == "mysql":
            sql += " ON DUPLICATE KEY UPDATE " + ", ".join(
                f"{q(c)} = {q(c)} + VALUES({q(c)})" for c in added
            )
        else:
            sql += f" ON CONFLICT ({', '.join(q(c) for c in key)}) DO UPDATE SET " + ", ".join(
                f"{q(c)} = {q(table)}.{q(c)} + excluded.{q(c)}" for c in added
            )
    return sql


# One array per column: on PostgreSQL a column's values go as one parameter, unnested by the server.
#
# A multi-row VALUES list is one parameter per value: psycopg2 quotes each into the statement's
# text and the server parses each as an expression, ~2 µs per value on the server alone (34
# columns x 500 orders: 17,000 of them). An array literal is parsed by the type's input function
# as COPY's text is: inserting 500 orders took 27-30 ms instead of 63 (bench/profile_apply.py and
# docs/benchmarks.md, "One array per column"). Rows, defaults, conflicts and RETURNING are those
# of the VALUES statement; assigning the array's base type to the column checks lengths and
# ranges as inserting the value would.


def array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of the values (what db_value gives: None, bool, int, float,
    Decimal, str, date and naive time), each element as its type's text input reads it."""
    kinds = set(map(type, values))
    if kinds <= _BARE:
        if NoneType in kinds:
            return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"
        return "{" + ",".join(map(str, values)) + "}"
    if kinds == {str}:
        # Escaped all at once: joined on NUL, which no text value can hold (PostgreSQL refuses it
        # in text); a value that does hold one takes the element path, and the driver refuses it.
        joined = "\x00".join(values)
        if joined.count("\x00") == len(values) - 1:
            escaped = joined.replace("\\", "\\\\").replace('"', '\\"')
            return '{"' + escaped.replace("\x00", '","') + '"}'
    if kinds <= {str, NoneType}:
        return "{" + ",".join([_text(v) for v in values]) + "}"
    if kinds <= _QUOTED:  # their text has no quote or backslash; a time's has a space
        return "{" + ",".join(["NULL" if v is None else f'"{v}"' for v in values]) + "}"
    return "{" + ",".join([_element(v) for v in values]) + "}"


_BARE = {int, bool, NoneType}  # elements whose str() has no character an array literal quotes
_QUOTED = {datetime, date, Decimal, float, NoneType}


def _text(value: str | None) -> str:
    if value is None:
        return "NULL"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        raise TypeError("array_literal: binary values are not supported")
    # (times come naive, in UTC: DateTimeField's db_value converts an aware one)
    return _text(str(value))


_TYPES: dict[str, dict[str, str]] = {}


def column_types(table: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The PostgreSQL base type of each column (no length: assigning to the column checks it), read
    from the catalogue once per table and process, and again when a column is new to it."""
    known = _TYPES.get(table, {})
    if any(c not in known for c in columns):
        cursor = database.execute_sql(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [quote(table)],
        )
        known = _TYPES[table] = dict(cursor.fetchall())
    return tuple(known[c] for c in columns)


@lru_cache(maxsize=256)
def _unnest_statement(
    table: str,
    columns: tuple[str, ...],
    types: tuple[str, ...],
    ignore: bool,
    key: tuple[str, ...],
    added: tuple[str, ...],
) -> str:
    q = quote
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    sql = (
        f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) "
        f"SELECT * FROM unnest({arrays})"
    )
    if ignore:
        return sql + " ON CONFLICT DO NOTHING"
    if key:
        return (
            sql
            + f" ON CONFLICT ({', '.join(q(c) for c in key)}) DO UPDATE SET "
            + ", ".join(f"{q(c)} = {q(table)}.{q(c)} + excluded.{q(c)}" for c in added)
        )
    return sql
