"""What is sold and bought: products, orders with items, refunds, carts, subscriptions."""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from companion.models.base import BaseModel, JSONField, MoneyField, UTCDateTimeField
from companion.models.customers import Contact
from companion.models.sites import Site

COUNTED_STATUSES = ("processing", "completed")
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
CART_STATUSES = ("active", "abandoned", "converted", "emptied")


class Product(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    source = CharField(max_length=20)
    external_id = CharField(max_length=64)
    name = CharField(max_length=300, null=True)
    sku = CharField(max_length=100, null=True)
    price = MoneyField(null=True)
    categories = JSONField(null=True)
    url = TextField(null=True)
    image = TextField(null=True)
    stock_quantity = IntegerField(null=True)
    status = CharField(max_length=20, null=True)
    updated_at = UTCDateTimeField()

    class Meta:
        indexes = ((("site", "source", "external_id"), True),)


class Order(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE", index=False)  # (site, ...) indexes lead
    source = CharField(max_length=20)
    external_id = CharField(max_length=64)
    number = CharField(max_length=64, null=True)
    status = CharField(max_length=20)
    currency = CharField(max_length=3)
    total = MoneyField(default=0)
    subtotal = MoneyField(null=True)
    discount_total = MoneyField(null=True)
    tax_total = MoneyField(null=True)
    shipping_total = MoneyField(null=True)
    refunded_total = MoneyField(default=0)
    coupons = JSONField(null=True)
    payment_method = CharField(max_length=100, null=True)
    created_via = CharField(max_length=50, null=True)
    source_type = CharField(max_length=50, null=True)
    utm_source = CharField(max_length=200, null=True)
    utm_medium = CharField(max_length=200, null=True)
    utm_campaign = CharField(max_length=200, null=True)
    click_id = CharField(max_length=200, null=True)
    device = CharField(max_length=30, null=True)
    cart_token = CharField(max_length=64, null=True)
    parent_external_id = CharField(max_length=64, null=True)
    is_renewal = BooleanField(default=False)
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    session_key = CharField(max_length=64, null=True)
    created_at = UTCDateTimeField()
    paid_at = UTCDateTimeField(null=True)
    completed_at = UTCDateTimeField(null=True)
    modified_at = UTCDateTimeField()
    snapshot_seq = BigIntegerField(default=0)
    is_counted = BooleanField(default=False)
    counted_at = UTCDateTimeField(null=True)
    deleted_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = (
            (("site", "source", "external_id"), True),
            (("site", "counted_at"), False),
            (("site", "contact"), False),
            (("site", "cart_token"), False),
            (("site", "session_key"), False),  # the sessions roll-up finds a session's orders
        )


class OrderItem(BaseModel):
    id = AutoField()
    order = ForeignKeyField(Order, on_delete="CASCADE", backref="items")
    site = ForeignKeyField(Site, on_delete="CASCADE", index=False)  # (site, product_id) leads
    product_id = CharField(max_length=64, null=True)
    variation_id = CharField(max_length=64, null=True)
    sku = CharField(max_length=100, null=True)
    name = CharField(max_length=300, null=True)
    quantity = IntegerField(default=1)
    price = MoneyField(null=True)
    total = MoneyField(default=0)
    categories = JSONField(null=True)

    class Meta:
        indexes = ((("site", "product_id"), False),)


class Refund(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    source = CharField(max_length=20)
    external_id = CharField(max_length=64)
    order_external_id = CharField(max_length=64)
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL", backref="refunds")
    amount = MoneyField()
    reason = TextField(null=True)
    created_at = UTCDateTimeField()

    class Meta:
        indexes = (
            (("site", "source", "external_id"), True),
            (("site", "source", "order_external_id"), False),
            (("site", "created_at"), False),
        )


class DeletedRefund(BaseModel):
    """A refund the store deleted (`order.refund_deleted`): its refund row is removed, and this
    tombstone keeps an `order.refunded` for the same refund id, arriving later (out of order, a
    retried delivery, a history sync), from storing it again. Store refund ids are never reused."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    source = CharField(max_length=20)
    external_id = CharField(max_length=64)
    order_external_id = CharField(max_length=64)
    deleted_at = UTCDateTimeField()

    class Meta:
        indexes = ((("site", "source", "external_id"), True),)


class Cart(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    token = CharField(max_length=64)
    source = CharField(max_length=20)
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    session_key = CharField(max_length=64, null=True)
    currency = CharField(max_length=3, null=True)
    value = MoneyField(default=0)
    items = JSONField(null=True)
    checkout_url = TextField(null=True)
    status = CharField(max_length=12, default="active")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    abandoned_at = UTCDateTimeField(null=True)
    converted_order = ForeignKeyField(Order, null=True, on_delete="SET NULL")

    class Meta:
        indexes = (
            (("site", "token"), True),
            (("status", "updated_at"), False),
            (("site", "created_at"), False),
        )


class Subscription(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    source = CharField(max_length=20)
    external_id = CharField(max_length=64)
    kind = CharField(max_length=20)
    status = CharField(max_length=30)
    product_id = CharField(max_length=64, null=True)
    expires_at = UTCDateTimeField(null=True, index=True)
    renewal_url = TextField(null=True)
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    updated_at = UTCDateTimeField()

    class Meta:
        indexes = ((("site", "source", "external_id"), True),)
