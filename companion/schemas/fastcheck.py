"""Load a well-formed event in a fraction of marshmallow's time, or say "ask marshmallow".

Validating an order event through `EventSchema.load` costs about 0.4 ms, mostly marshmallow's
per-field machinery around the fields' own work; for a history import that is a third of the
CPU before the database is touched. `load_event` walks the same schema objects and lets each
field deserialize and validate its own value (`Field.deserialize`: type, `allow_none`, the
field's validators), checks required and unknown keys, and calls the schema's own
`validates_schema` and `post_load` hooks. Anything it does not handle the same way (a missing
required field, an unknown key, any field error, hooks it does not know) returns None, and the
caller loads with marshmallow, which then gives the messages. So for any input the answer is
marshmallow's answer (tests/service/test_fastcheck.py compares the two on generated events).
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields
from marshmallow.utils import missing

from companion.schemas.events import DATA_SCHEMAS, EventSchema

_NOT_HANDLED = object()


class FastLoader:
    """The fast path for one schema; `load` returns the loaded dict or None (ask marshmallow)."""

    def __init__(self, schema: Schema, skip_post_load: tuple[str, ...] = ()) -> None:
        self.schema = schema
        hooks = {tag: [h[0] for h in found] for tag, found in schema._hooks.items() if found}
        known_hooks = {"validates_schema", "post_load"}
        self.usable = (
            schema.unknown in (RAISE, EXCLUDE)
            and set(hooks) <= known_hooks
            and not schema.partial
            and not schema.only
            and not schema.exclude
        )
        self.raise_unknown = schema.unknown == RAISE
        self.validators = hooks.get("validates_schema", [])
        self.post_loads = [h for h in hooks.get("post_load", []) if h not in skip_post_load]
        self.fields: list[tuple[str, str, fields.Field, Any]] = []
        for name, field in schema.fields.items():
            if field.dump_only or field.attribute:
                self.usable = False
            sub = _sub_loader(field)
            self.fields.append((field.data_key or name, name, field, sub or _plain(field)))
        if any(sub is _NOT_HANDLED for *_, sub in self.fields):
            self.usable = False
        self.keys = {key for key, *_ in self.fields}

    def load(self, raw: Any) -> dict[str, Any] | None:
        if not self.usable or not isinstance(raw, dict):
            return None
        if self.raise_unknown and not self.keys.issuperset(raw):
            return None
        out: dict[str, Any] = {}
        for key, name, field, sub in self.fields:
            if key in raw:
                value = _load_value(field, sub, raw[key], key, raw)
                if value is _NOT_HANDLED:
                    return None
                out[name] = value
            elif field.required:
                return None
            elif field.load_default is not missing:
                out[name] = (
                    field.load_default() if callable(field.load_default) else field.load_default
                )
        try:
            for hook in self.validators:
                getattr(self.schema, hook)(out, partial=None, many=False)
            for hook in self.post_loads:
                out = getattr(self.schema, hook)(out, partial=None, many=False)
        except ValidationError:
            return None
        return out


def _sub_loader(field: fields.Field) -> Any:
    """A FastLoader for a Nested field or a List of Nested; None for a plain field."""
    if isinstance(field, fields.Nested):
        if field.many or field.only or field.exclude or not isinstance(field.schema, Schema):
            return _NOT_HANDLED
        return FastLoader(field.schema)
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        inner = _sub_loader(field.inner)
        return _NOT_HANDLED if inner is _NOT_HANDLED else ("list", inner, field.inner)
    return None


class _Plain:
    """`Field.deserialize` unrolled for a field that keeps marshmallow's own `deserialize` and
    `_validate`: the same steps (null, `_deserialize`, the validators) without the calls around
    them; a str for a plain `String` is its own result (`ensure_text_type` returns it)."""

    __slots__ = ("check", "field", "is_text")

    def __init__(self, field: fields.Field) -> None:
        self.field = field
        self.is_text = type(field)._deserialize is fields.String._deserialize
        self.check = field._validate_all if field.validators else None

    def load(self, value: Any, key: str, raw: dict[str, Any]) -> Any:
        if value is None:
            return None if self.field.allow_none else _NOT_HANDLED
        if self.is_text and type(value) is str:
            output = value
        else:
            output = self.field._deserialize(value, key, raw)
        if self.check is not None:
            self.check(output)
        return output


def _plain(field: fields.Field) -> _Plain | None:
    """The unrolled path for a plain field, or None: call its `deserialize`."""
    kind = type(field)
    if kind.deserialize is fields.Field.deserialize and kind._validate is fields.Field._validate:
        return _Plain(field)
    return None


def _load_value(field: fields.Field, sub: Any, value: Any, key: str, raw: dict[str, Any]) -> Any:
    try:
        if type(sub) is _Plain:
            return sub.load(value, key, raw)
        if sub is None:
            return field.deserialize(value, key, raw)
        if value is None:
            return None if field.allow_none else _NOT_HANDLED
        if isinstance(sub, FastLoader):
            loaded = sub.load(value)
            if loaded is None:
                return _NOT_HANDLED
            field._validate(loaded)
            return loaded
        _, inner, inner_field = sub
        if type(value) is not list:
            return _NOT_HANDLED
        items = []
        for item in value:
            if item is None:
                return _NOT_HANDLED
            loaded = inner.load(item)
            if loaded is None:
                return _NOT_HANDLED
            inner_field._validate(loaded)
            items.append(loaded)
        field._validate(items)
        return items
    except ValidationError:
        return _NOT_HANDLED


_envelope = FastLoader(EventSchema(), skip_post_load=("load_data",))
_data = {type_: FastLoader(schema) for type_, schema in DATA_SCHEMAS.items()}


def load_event(raw: Any) -> dict[str, Any] | None:
    """The event as `event_schema.load(raw)` returns it, or None: load it with marshmallow."""
    event = _envelope.load(raw)
    if event is None:
        return None
    data = _data[event["type"]].load(event.get("data") or {})
    if data is None:
        return None
    event["data"] = data
    return event
