"""What the contacts routes answer and accept."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from companion.schemas.fields import Money


class ContactsQuerySchema(Schema):
    segment = fields.String(validate=validate.Length(max=40))
    stage = fields.String(
        validate=validate.OneOf(("lead", "new", "one_time", "repeat", "vip", "at_risk", "churned"))
    )
    q = fields.String(validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class RfmSchema(Schema):
    r = fields.Integer(allow_none=True)
    f = fields.Integer(allow_none=True)
    m = fields.Integer(allow_none=True)
    segment = fields.String(allow_none=True)


class ContactSummarySchema(Schema):
    id = fields.Integer()
    email = fields.String(allow_none=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    marketing_consent = fields.Boolean(allow_none=True)
    orders_count = fields.Integer()
    total_spent = Money()
    refunded = Money()
    net_spent = Money()
    first_order_at = fields.AwareDateTime(allow_none=True)
    last_order_at = fields.AwareDateTime(allow_none=True)
    stage = fields.String(allow_none=True)
    rfm = fields.Nested(RfmSchema, allow_none=True)
    created_at = fields.AwareDateTime()


class ContactPageSchema(Schema):
    contacts = fields.List(fields.Nested(ContactSummarySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class ItemOutSchema(Schema):
    product_id = fields.String(allow_none=True)
    variation_id = fields.String(allow_none=True)
    sku = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    quantity = fields.Integer()
    price = Money(allow_none=True)
    total = Money()


class RefundOutSchema(Schema):
    id = fields.String(attribute="external_id")
    order_id = fields.String(attribute="order_external_id")
    amount = Money()
    reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class OrderOutSchema(Schema):
    id = fields.String(attribute="external_id")
    source = fields.String()
    number = fields.String(allow_none=True)
    status = fields.String()
    currency = fields.String()
    total = Money()
    refunded = Money(attribute="refunded_total")
    counted = fields.Boolean(attribute="is_counted")
    payment_method = fields.String(allow_none=True)
    channel = fields.String(attribute="source_type", allow_none=True)
    created_at = fields.AwareDateTime()
    paid_at = fields.AwareDateTime(allow_none=True)
    items = fields.List(fields.Nested(ItemOutSchema))
    refunds = fields.List(fields.Nested(RefundOutSchema))


class CartOutSchema(Schema):
    token = fields.String()
    status = fields.String()
    currency = fields.String(allow_none=True)
    value = Money()
    items = fields.List(fields.Dict())
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ViewOutSchema(Schema):
    product_id = fields.String()
    name = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()


class VisitOutSchema(Schema):
    started_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime()
    page_views = fields.Integer()
    landing_url = fields.String(allow_none=True)
    utm_source = fields.String(allow_none=True)


class SubscriptionOutSchema(Schema):
    id = fields.String(attribute="external_id")
    kind = fields.String()
    status = fields.String()
    product_id = fields.String(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)


class PredictionsSchema(Schema):
    p_alive = fields.Float(allow_none=True)
    expected_purchases_90 = fields.Float(allow_none=True)
    expected_purchases_365 = fields.Float(allow_none=True)
    expected_next_order_at = fields.AwareDateTime(allow_none=True)
    predicted_clv_365 = Money(allow_none=True)


class ContactProfileSchema(ContactSummarySchema):
    phone = fields.String(allow_none=True)
    wp_user_id = fields.String(allow_none=True)
    orders = fields.List(fields.Nested(OrderOutSchema))
    carts = fields.List(fields.Nested(CartOutSchema))
    product_views = fields.List(fields.Nested(ViewOutSchema))
    visits = fields.List(fields.Nested(VisitOutSchema))
    subscriptions = fields.List(fields.Nested(SubscriptionOutSchema))
    stage_reason = fields.String(allow_none=True)
    predictions = fields.Nested(PredictionsSchema, allow_none=True)
    predictions_reason = fields.String(allow_none=True)
