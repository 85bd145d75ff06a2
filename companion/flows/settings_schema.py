"""What a flow's settings accept (PUT /flows/<key>, and the dashboard's flow form): one schema for
both, so the form refuses exactly what the API refuses."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

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
    subject_b = _template_field()  # a second subject: the step tests both (flows/abtest.py)


class ConditionsSchema(Schema):
    min_value = Money(allow_none=True)
    first_order_only = fields.Boolean()


COUPON_KINDS = ("static", "unique")
DISCOUNT_TYPES = ("percent", "fixed_cart")


class CouponSchema(Schema):
    """A step's coupon: one `static` code the owner made in the store (`code`), or a `unique`
    template from which each contact gets a single-use code of their own (flows/coupons.py)."""

    kind = fields.String(validate=validate.OneOf(COUPON_KINDS))  # default: static
    code = fields.String(allow_none=True, validate=validate.Length(min=1, max=60))
    description = fields.String(allow_none=True, validate=validate.Length(max=300))
    discount_type = fields.String(validate=validate.OneOf(DISCOUNT_TYPES))
    amount = Money()
    days_valid = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))
    minimum_amount = Money(allow_none=True)
    individual_use = fields.Boolean()
    prefix = fields.String(
        validate=validate.Regexp(
            r"^[A-Za-z0-9]{0,12}$", error="Letters and digits only, at most 12."
        )
    )

    @validates_schema
    def _complete(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("kind", "static") == "static":
            if not data.get("code"):
                raise ValidationError("A static coupon needs its code.", "code")
            return
        missing = {
            name: ["Required for a unique coupon."]
            for name in ("discount_type", "amount", "days_valid")
            if data.get(name) is None
        }
        if missing:
            raise ValidationError(missing)
        if data["amount"] <= 0:
            raise ValidationError("Must be more than 0.", "amount")
        if data["discount_type"] == "percent" and data["amount"] > 100:
            raise ValidationError("A percentage is at most 100.", "amount")

    @post_load
    def _stored(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """What is stored (JSON): amounts as decimal strings; a unique template keeps no code."""
        data.setdefault("kind", "static")
        for name in ("amount", "minimum_amount"):
            if data.get(name) is not None:
                data[name] = str(data[name])
        if data["kind"] == "unique":
            data.pop("code", None)
            data.setdefault("individual_use", True)
            data.setdefault("prefix", "SC")
            data["prefix"] = data["prefix"].upper()
        return data


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
