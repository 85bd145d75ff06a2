"""Turn an already validated event back into typed values without validating it again.

Events are validated by their marshmallow schema when they arrive; when a worker applies them
it only needs the conversions (decimal strings to Decimal, ISO times to datetime, ids to str,
defaults for absent fields). This walks the same schema once to build those conversions, so the
two can never disagree about a field, and runs several times faster than a second `load`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields
from marshmallow.utils import missing

from companion.schemas.fields import ExternalId, Money, WebUrl, web_url_or_none

Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _time(value: Any) -> Any:
    return None if value is None else datetime.fromisoformat(value)  # 3.11 reads a trailing Z


def _converter(field: fields.Field) -> Converter:
    if isinstance(field, Money):
        return lambda v: None if v is None else Decimal(str(v).strip())
    if isinstance(
        field, WebUrl
    ):  # stored payloads are the raw events: drop what validation dropped
        return web_url_or_none
    if isinstance(field, ExternalId):
        return lambda v: None if v is None else str(v).strip()
    if isinstance(field, fields.DateTime):
        return _time
    if isinstance(field, fields.Nested):
        nested = converter_for(field.schema)
        return lambda v: None if v is None else nested(v)
    if isinstance(field, fields.List):
        inner = _converter(field.inner)
        return lambda v: None if v is None else [inner(x) for x in v]
    return _identity


def converter_for(schema: Schema) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The schema's conversions as one function of straight-line code (a loop over the fields,
    unpacking each field's name, key and conversion, cost as much as the conversions themselves:
    it runs for every event a worker applies)."""
    convert = [
        (name, field.data_key or name, _converter(field), field.load_default)
        for name, field in schema.fields.items()
        if not field.dump_only
    ]
    scope: dict[str, Any] = {}
    lines = ["def load(raw):", "    out = {}"]
    for n, (name, key, conv, default) in enumerate(convert):
        value = f"raw[{key!r}]" if conv is _identity else f"c{n}(raw[{key!r}])"
        scope[f"c{n}"], scope[f"d{n}"] = conv, default
        lines += [f"    if {key!r} in raw:", f"        out[{name!r}] = {value}"]
        if default is not missing:  # (a field kept as it is costs no call)
            fallback = f"d{n}()" if callable(default) else f"d{n}"
            lines += ["    else:", f"        out[{name!r}] = {fallback}"]
    lines.append("    return out")
    exec("\n".join(lines), scope)  # noqa: S102 (names and keys come from the schema, repr-quoted)
    return scope["load"]
