"""Field types of the HTTP contract: money as decimal strings, store ids, aware times."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlsplit

from marshmallow import ValidationError, fields

_DECIMAL = re.compile(r"^-?[0-9]{1,14}(\.[0-9]{1,4})?$")


class Money(fields.Field):
    """A decimal string ("19.90"); floats are refused because they cannot hold cents exactly."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_negative = allow_negative

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, (bool, float)):
            raise ValidationError('Money must be a decimal string such as "19.90", not a number.')
        text = str(value).strip() if isinstance(value, (str, int)) else None
        if text is None or not _DECIMAL.match(text):
            raise ValidationError('Not a decimal amount; send a string such as "19.90".')
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError("Not a decimal amount.") from None
        if amount < 0 and not self.allow_negative:
            raise ValidationError("Must not be negative.")
        return amount

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_money(value)


def format_money(value: Decimal | int | str) -> str:
    """Two decimals unless the amount needs more (three-decimal currencies)."""
    amount = Decimal(value)
    two = amount.quantize(Decimal("0.01"))
    return str(two if two == amount else amount.normalize())


class ExternalId(fields.Field):
    """A store's id: an integer or a string, kept as a string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError("Must be a string or an integer id.")
        text = str(value).strip()
        if not text or len(text) > 64:
            raise ValidationError("Must be 1 to 64 characters.")
        return text

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class Timestamp(fields.AwareDateTime):
    """ISO 8601 with an offset; a naive time is refused since its zone would be a guess."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Not a valid ISO 8601 time.",
        "invalid_awareness": "Time has no UTC offset; send it as 2026-11-20T10:00:00Z.",
        "out_of_range": "Time must be between 1970 and 2200.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not 1970 <= moment.year <= 2200:  # year 1 passed here and failed in the worker
            raise self.make_error("out_of_range")
        return moment


class Day(fields.Date):
    """A calendar day between 1970 and 2200, the range times are accepted in (year 1 made the
    previous period overflow Python's dates)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "out_of_range": "Day must be between 1970 and 2200."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not 1970 <= day.year <= 2200:
            raise self.make_error("out_of_range")
        return day


class WebUrl(fields.String):
    """An http(s) address for a link or an image in a mail; anything else (javascript:, data:,
    a bare path) is dropped to None, so the event is kept and no mail ever carries it."""

    default_error_messages: ClassVar[dict[str, str]] = {"too_long": "Longer than 2000 characters."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 2000:
            raise self.make_error("too_long")
        return web_url_or_none(text)


def web_url_or_none(value: Any) -> str | None:
    """The address when it is http(s) with a host, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    parts = urlsplit(text)
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None
