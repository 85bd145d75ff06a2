"""What a flow's settings accept (PUT /flows/<key>, and the dashboard's flow form): one schema for
both, so the form refuses exactly what the API refuses."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from companion.email.rendering import validate_override
from companion.schemas.fields import Money


def _template(source: str) -> None:
    try:
        validate_override(source)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _template_field() -> fields.String:
    return fields.String(allow_none=True, validate=[validate.Length(max=20_000), _template])


class StepSettingsSchema(Schema):
    step = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10))
    delay_hours = fields.Float(
        validate=validate.Range(min=-24 * 365, max=24 * 365), allow_nan=False
    )
    enabled = fields.Boolean()
    subject = _template_field()
    intro = _template_field()
    outro = _template_field()


class ConditionsSchema(Schema):
    min_value = Money(allow_none=True)
    first_order_only = fields.Boolean()


class CouponSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    description = fields.String(allow_none=True, validate=validate.Length(max=300))


class RewardSchema(Schema):
    title = fields.String(allow_none=True, validate=validate.Length(max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=500))
    code = fields.String(allow_none=True, validate=validate.Length(max=60))


class ProductId(fields.String):
    """A store's product id: a string, or the number WooCommerce uses."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class ProductChoiceSchema(Schema):
    """Products (by the store's id) and categories (by name) the owner marks for replenishment."""

    products = fields.List(
        ProductId(validate=validate.Length(min=1, max=64)), validate=validate.Length(max=2000)
    )
    categories = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=500)
    )


class FlowSettingsSchema(Schema):
    """PUT /flows/<key>: only the fields sent change."""

    enabled = fields.Boolean()
    from_email = fields.Email(allow_none=True)
    from_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    reply_to = fields.Email(allow_none=True)
    conditions = fields.Nested(ConditionsSchema)
    steps = fields.List(fields.Nested(StepSettingsSchema), validate=validate.Length(max=10))
    coupon = fields.Nested(CouponSchema, allow_none=True)
    reward = fields.Nested(RewardSchema, allow_none=True)
    early_access_url = fields.Url(allow_none=True, schemes={"http", "https"})
    replenish_days = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.Float(validate=validate.Range(min=1, max=730)),
    )
    consumable = fields.Nested(ProductChoiceSchema, allow_none=True)
    never = fields.Nested(ProductChoiceSchema, allow_none=True)
