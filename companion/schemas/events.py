"""The event contract of DESIGN 3.1: an envelope, a contact and one data schema per type."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from companion.schemas.fields import ExternalId, Money, Timestamp, WebUrl

ORDER_STATUSES = (
    "pending",
    "on_hold",
    "processing",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "draft",
)
SOURCES = ("woocommerce", "edd", "fluentcart", "custom")
_short = validate.Length(max=200)


class ContactSchema(Schema):
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    first_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    last_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    phone = fields.String(allow_none=True, validate=validate.Length(max=50))
    wp_user_id = ExternalId(allow_none=True)
    marketing_consent = fields.Boolean(allow_none=True)

    @post_load
    def lower_email(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("email"):
            data["email"] = data["email"].strip().lower()
        return data


class ItemSchema(Schema):
    product_id = ExternalId(allow_none=True)
    variation_id = ExternalId(allow_none=True)
    sku = fields.String(allow_none=True, validate=validate.Length(max=100))
    name = fields.String(allow_none=True, validate=validate.Length(max=300))
    quantity = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=1_000_000)
    )
    price = Money(allow_none=True)
    total = Money(load_default=None, allow_none=True)
    categories = fields.List(
        fields.String(validate=_short), load_default=list, validate=validate.Length(max=100)
    )


class AttributionSchema(Schema):
    source_type = fields.String(allow_none=True, validate=validate.Length(max=50))
    utm_source = fields.String(allow_none=True, validate=_short)
    utm_medium = fields.String(allow_none=True, validate=_short)
    utm_campaign = fields.String(allow_none=True, validate=_short)
    click_id = fields.String(allow_none=True, validate=_short)


class OrderDataSchema(Schema):
    id = ExternalId(required=True)
    number = fields.String(allow_none=True, validate=validate.Length(max=64))
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    currency = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Must be an ISO 4217 code such as USD."),
    )
    total = Money(required=True)
    subtotal = Money(allow_none=True)
    discount_total = Money(allow_none=True)
    tax_total = Money(allow_none=True)
    shipping_total = Money(allow_none=True)
    coupons = fields.List(
        fields.String(validate=_short), load_default=list, validate=validate.Length(max=100)
    )
    # No real order is refused for its size: the 5 MB batch limit comes first (an item is >= 50
    # bytes).
    items = fields.List(
        fields.Nested(ItemSchema), load_default=list, validate=validate.Length(max=100_000)
    )
    payment_method = fields.String(allow_none=True, validate=validate.Length(max=100))
    created_via = fields.String(allow_none=True, validate=validate.Length(max=50))
    attribution = fields.Nested(AttributionSchema, allow_none=True)
    device = fields.String(allow_none=True, validate=validate.Length(max=30))
    cart_token = fields.String(allow_none=True, validate=validate.Length(max=64))
    parent_id = ExternalId(allow_none=True)
    is_renewal = fields.Boolean(load_default=False)
    created_at = Timestamp(required=True)
    paid_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    modified_at = Timestamp(required=True)


class RefundDataSchema(Schema):
    order_id = ExternalId(required=True)
    refund_id = ExternalId(required=True)
    amount = Money(required=True)
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    created_at = Timestamp(required=True)


class OrderDeletedDataSchema(Schema):
    order_id = ExternalId(required=True)


class RefundDeletedDataSchema(Schema):
    """A refund the store deleted (WooCommerce's delete cross on a refund line, or the REST API):
    it stops counting, and a later or earlier `order.refunded` for the same refund id is ignored."""

    order_id = ExternalId(required=True)
    refund_id = ExternalId(required=True)


class RefundsListedDataSchema(Schema):
    """Every refund an order has in the store when the event was recorded (the history sync sends
    one per order it records). A refund the service holds for that order, created well before the
    event and not in the list, was deleted in the store without an `order.refund_deleted` (before
    the plugin sent one, or by a tool that fires no hook): it is taken as deleted
    (companion/ingest/refund_lists.py)."""

    order_id = ExternalId(required=True)
    refund_ids = fields.List(ExternalId(), required=True, validate=validate.Length(max=100_000))


class CartDataSchema(Schema):
    cart_token = fields.String(required=True, validate=validate.Length(min=1, max=64))
    currency = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    value = Money(required=True)
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(max=500))
    checkout_url = WebUrl()


class ProductViewedDataSchema(Schema):
    product_id = ExternalId(required=True)
    name = fields.String(allow_none=True, validate=validate.Length(max=300))
    price = Money(allow_none=True)
    url = WebUrl()
    categories = fields.List(
        fields.String(validate=_short), load_default=list, validate=validate.Length(max=100)
    )


class PageViewedDataSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    referrer = fields.String(allow_none=True, validate=validate.Length(max=2000))
    utm_source = fields.String(allow_none=True, validate=_short)
    utm_medium = fields.String(allow_none=True, validate=_short)
    utm_campaign = fields.String(allow_none=True, validate=_short)
    utm_term = fields.String(allow_none=True, validate=_short)
    utm_content = fields.String(allow_none=True, validate=_short)


class ProductDataSchema(Schema):
    id = ExternalId(required=True)
    name = fields.String(allow_none=True, validate=validate.Length(max=300))
    sku = fields.String(allow_none=True, validate=validate.Length(max=100))
    price = Money(allow_none=True)
    categories = fields.List(
        fields.String(validate=_short), load_default=list, validate=validate.Length(max=100)
    )
    url = WebUrl()
    image = WebUrl()
    stock_quantity = fields.Integer(allow_none=True, strict=True)
    status = fields.String(allow_none=True, validate=validate.Length(max=20))


class EmptyDataSchema(Schema):
    """customer.updated carries everything in `contact`; stray data keys are ignored."""

    class Meta:
        unknown = EXCLUDE


class SubscriptionDataSchema(Schema):
    id = ExternalId(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("subscription", "license")))
    status = fields.String(required=True, validate=validate.Length(min=1, max=30))
    product_id = ExternalId(allow_none=True)
    expires_at = Timestamp(allow_none=True)
    renewal_url = WebUrl()


class ConsentDataSchema(Schema):
    marketing_consent = fields.Boolean(required=True, allow_none=True)


DATA_SCHEMAS: dict[str, Schema] = {
    "order.updated": OrderDataSchema(),
    "order.refunded": RefundDataSchema(),
    "order.deleted": OrderDeletedDataSchema(),
    "order.refund_deleted": RefundDeletedDataSchema(),
    "order.refunds_listed": RefundsListedDataSchema(),
    "cart.updated": CartDataSchema(),
    "product.viewed": ProductViewedDataSchema(),
    "page.viewed": PageViewedDataSchema(),
    "product.updated": ProductDataSchema(),
    "customer.updated": EmptyDataSchema(),
    "subscription.updated": SubscriptionDataSchema(),
    "consent.updated": ConsentDataSchema(),
}


class EventSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    type = fields.String(required=True, validate=validate.OneOf(tuple(DATA_SCHEMAS)))
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    occurred_at = Timestamp(required=True)
    session_id = fields.String(allow_none=True, validate=validate.Length(max=64))
    contact = fields.Nested(ContactSchema, allow_none=True)
    data = fields.Dict(load_default=dict)

    @validates_schema
    def check_contact(self, event: dict[str, Any], **kwargs: Any) -> None:
        if event.get("type") == "customer.updated" and not (event.get("contact") or {}).get(
            "email"
        ):
            raise ValidationError(
                {"email": ["customer.updated needs the contact's email."]}, field_name="contact"
            )

    @post_load
    def load_data(self, event: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            event["data"] = DATA_SCHEMAS[event["type"]].load(event.get("data") or {})
        except ValidationError as exc:
            raise ValidationError(exc.messages, field_name="data") from None
        return event


class BatchSchema(Schema):
    events = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))


event_schema = EventSchema()
