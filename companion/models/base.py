"""Field types shared by every model: exact money, UTC times, JSON text."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from peewee import BigIntegerField, DateField, DateTimeField, Model, TextField

from companion.core.db import database

MONEY_SCALE = 10_000  # money is stored as an integer count of 1/10,000 units: exact on every engine


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class MoneyField(BigIntegerField):
    """A Decimal amount stored as an exact integer; SQL sums stay exact on SQLite too."""

    def db_value(self, value: Any) -> int | None:
        return to_units(value)

    def python_value(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        return money_from_units(value)


def to_units(value: Any) -> int | None:
    """A money amount as MoneyField stores it (an integer count of 1/10,000 units)."""
    if value is None:
        return None
    if type(value) is int:  # a roll-up's zero, a test's whole amount: exact as it is
        return value * MONEY_SCALE
    if type(value) is not Decimal:
        value = Decimal(value)
    return int((value * MONEY_SCALE).to_integral_value())


def money_from_units(units: Any) -> Decimal:
    """Turn a stored (or SQL-summed) integer back into a Decimal amount."""
    return (Decimal(int(units or 0)) / MONEY_SCALE).quantize(Decimal("0.0001"))


class IsoText:
    """SQLite hands back dates and times as text; `fromisoformat` reads it ~20x faster than peewee's
    strptime loop over its formats (which was a tenth of applying a batch at a million orders).
    Anything else (a driver's own date object, an odd format) goes to peewee's conversion."""

    parse: Callable[[str], Any]

    def python_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return self.parse(value)
            except ValueError:
                pass
        return super().python_value(value)  # type: ignore[misc]


class UTCDateTimeField(IsoText, DateTimeField):
    """A moment in UTC, stored naive and to the second so all three engines agree."""

    parse = staticmethod(datetime.fromisoformat)

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            # written as it is (peewee's own conversion passes a datetime through unchanged)
            return to_naive_utc(value) if value.tzinfo or value.microsecond else value
        return super().db_value(value)


class DayField(IsoText, DateField):
    """A calendar day (DATE)."""

    parse = staticmethod(date.fromisoformat)


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # Most values come through twice (the applier's row, then the column's db_value): no copy then.
    return value.replace(microsecond=0) if value.microsecond else value


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def in_period(field: Any, start: datetime | None, end: datetime | None) -> Any:
    """`field` is set and lies in [start, end); an open end on either side is unbounded."""
    condition = field.is_null(False)
    if start is not None:
        condition &= field >= start
    if end is not None:
        condition &= field < end
    return condition


def as_aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


# json.dumps(value, separators=(",", ":"), default=str) builds this encoder on every call
encode_json = json.JSONEncoder(separators=(",", ":"), default=str).encode


class JSONField(TextField):
    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encode_json(value)

    def python_value(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        return json.loads(value)
