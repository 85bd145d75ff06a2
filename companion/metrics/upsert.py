"""Additive upserts: add deltas to roll-up rows atomically on SQLite, PostgreSQL and MariaDB.

Two workers adding to the same row never lose an update: the database adds inside one
statement (`col = col + EXCLUDED.col`, on MySQL `col = col + VALUES(col)`); nothing is read first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peewee import Model

from companion.core.bulk import insert_rows


def add_rows(model: type[Model], keys: tuple[str, ...], rows: Iterable[Mapping[str, Any]]) -> int:
    """Add each row's non-key values to the row with the same key, creating it when missing.

    Rows with equal keys are merged first and all-zero rows dropped; rows are written in key
    order so concurrent writers lock them in the same order (no deadlocks).
    """
    merged = merge_rows(keys, rows)
    return add_totals(model, keys, merged)


def add_totals(
    model: type[Model], keys: tuple[str, ...], totals: Mapping[tuple[Any, ...], Mapping[str, Any]]
) -> int:
    """`add_rows` for values already summed per key: key (the values of `keys`) -> values (the
    key's own fields may be among them). All-zero rows are dropped; written in key order."""
    kept = [
        k
        for k in sorted(totals, key=_sort_key)
        if any(v for n, v in totals[k].items() if n not in keys)
    ]
    if not kept:
        return 0
    columns = sorted({name for k in kept for name in totals[k] if name not in keys})
    insert_rows(
        model,
        [
            {**dict(zip(keys, k, strict=True)), **{c: totals[k].get(c, 0) for c in columns}}
            for k in kept
        ],
        add_on=keys,
    )
    return len(kept)


def merge_rows(
    keys: tuple[str, ...], rows: Iterable[Mapping[str, Any]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        target = merged.setdefault(key, {k: row[k] for k in keys})
        for name, value in row.items():
            if name not in keys:
                target[name] = target.get(name, 0) + value
    return {k: v for k, v in merged.items() if any(v[n] for n in v if n not in keys)}


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(part) for part in key)
