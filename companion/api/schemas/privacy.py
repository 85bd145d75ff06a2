"""What the privacy routes accept and answer (DESIGN 3.3), and their OpenAPI entries."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from companion.api.schemas.contacts import (
    CartOutSchema,
    OrderOutSchema,
    SubscriptionOutSchema,
    VisitOutSchema,
)
from companion.schemas.fields import Money


class PrivacyRequestSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))

    @pre_load
    def strip_email(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            return {**data, "email": data["email"].strip()}
        return data


def load_request(payload: Any) -> str:
    if not isinstance(payload, dict):
        raise ValidationError({"_schema": ["Send a JSON object."]})
    return str(PrivacyRequestSchema().load(payload)["email"])


class PrivacyContactSchema(Schema):
    email = fields.String()
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    wp_user_id = fields.String(allow_none=True)
    marketing_consent = fields.Boolean(allow_none=True)
    consent_updated_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    orders_count = fields.Integer()
    total_spent = Money()
    refunded = Money()
    first_order_at = fields.AwareDateTime(allow_none=True)
    last_order_at = fields.AwareDateTime(allow_none=True)
    stage = fields.String(allow_none=True)
    stage_reason = fields.String(allow_none=True)
    rfm_r = fields.Integer(allow_none=True)
    rfm_f = fields.Integer(allow_none=True)
    rfm_m = fields.Integer(allow_none=True)
    rfm_segment = fields.String(allow_none=True)
    p_alive = fields.Float(allow_none=True)
    expected_purchases_90 = fields.Float(allow_none=True)
    expected_purchases_365 = fields.Float(allow_none=True)
    expected_next_order_at = fields.AwareDateTime(allow_none=True)
    predicted_clv_365 = Money(allow_none=True)


class PrivacyOrderSchema(OrderOutSchema):
    subtotal = Money(allow_none=True)
    discount_total = Money(allow_none=True)
    tax_total = Money(allow_none=True)
    shipping_total = Money(allow_none=True)
    coupons = fields.Raw(allow_none=True)
    utm_source = fields.String(allow_none=True)
    utm_medium = fields.String(allow_none=True)
    utm_campaign = fields.String(allow_none=True)
    device = fields.String(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)


class PrivacyCartSchema(CartOutSchema):
    checkout_url = fields.String(allow_none=True)
    abandoned_at = fields.AwareDateTime(allow_none=True)


class PrivacyViewSchema(Schema):
    product_id = fields.String()
    name = fields.String(allow_none=True)
    price = Money(allow_none=True)
    url = fields.String(allow_none=True)
    session_key = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()


class PrivacyVisitSchema(VisitOutSchema):
    session_key = fields.String()
    referrer = fields.String(allow_none=True)
    utm_medium = fields.String(allow_none=True)
    utm_campaign = fields.String(allow_none=True)


class PrivacySubscriptionSchema(SubscriptionOutSchema):
    renewal_url = fields.String(allow_none=True)


class PrivacyMessageSchema(Schema):
    flow = fields.String(attribute="flow_key")
    step = fields.Integer(allow_none=True)
    to_email = fields.String()
    to_name = fields.String(allow_none=True)
    subject = fields.String()
    status = fields.String()
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    opened_at = fields.AwareDateTime(allow_none=True)
    clicked_at = fields.AwareDateTime(allow_none=True)
    bounced_at = fields.AwareDateTime(allow_none=True)
    unsubscribed_at = fields.AwareDateTime(allow_none=True)
    open_count = fields.Integer()
    click_count = fields.Integer()


class PrivacySuppressionSchema(Schema):
    email = fields.String()
    reason = fields.String()
    created_at = fields.AwareDateTime()


class PrivacyTouchSchema(Schema):
    kind = fields.String()
    flow = fields.String(attribute="flow_key", allow_none=True)
    step = fields.Integer(allow_none=True)
    campaign = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()


class PrivacyExportSchema(Schema):
    """One key per kind of data; the plugin shows each key as one row of the WordPress export."""

    email = fields.String()
    contact = fields.Nested(PrivacyContactSchema, allow_none=True)
    orders = fields.List(fields.Nested(PrivacyOrderSchema))
    carts = fields.List(fields.Nested(PrivacyCartSchema))
    product_views = fields.List(fields.Nested(PrivacyViewSchema))
    visits = fields.List(fields.Nested(PrivacyVisitSchema))
    subscriptions = fields.List(fields.Nested(PrivacySubscriptionSchema))
    messages = fields.List(fields.Nested(PrivacyMessageSchema))
    suppressions = fields.List(fields.Nested(PrivacySuppressionSchema))
    email_touches = fields.List(fields.Nested(PrivacyTouchSchema))


class PrivacyErasedSchema(Schema):
    """How many rows of each kind lost personal data (zeros: nothing was stored, or already
    erased)."""

    erased = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()


SCHEMAS: dict[str, Any] = {
    "PrivacyRequest": PrivacyRequestSchema,
    "PrivacyExport": PrivacyExportSchema,
    "PrivacyErased": PrivacyErasedSchema,
}

_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _operation(summary: str, answer: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"ApiToken": []}],
        "parameters": [
            {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PrivacyRequest"}}
            },
        },
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{answer}"}}
                },
            },
            "400": _ERROR,
            "401": _ERROR,
            "404": _ERROR,
            "422": _ERROR,
        },
    }


ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/v1/sites/{site_id}/privacy/export",
        "post",
        _operation(
            "Everything stored about an email on this site (empty lists when nothing is)",
            "PrivacyExport",
        ),
    ),
    (
        "/v1/sites/{site_id}/privacy/erase",
        "post",
        _operation(
            "Erase an email's personal data; orders stay, anonymised; answers counts per kind",
            "PrivacyErased",
        ),
    ),
]
