"""Email touches (clicks, opens), abandoned-cart emails sent, and the attribution of each order."""

from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField

from companion.models.base import BaseModel, UTCDateTimeField
from companion.models.commerce import Order
from companion.models.customers import Contact
from companion.models.sites import Site

TOUCH_KINDS = ("click", "open")


class EmailTouch(BaseModel):
    """A contact clicked a tracked link (or opened) in a message of a flow step or a campaign."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    message_uuid = CharField(max_length=64)
    flow_key = CharField(max_length=50, null=True)
    step = IntegerField(null=True)
    campaign = CharField(max_length=100, null=True)
    kind = CharField(max_length=5)
    occurred_at = UTCDateTimeField()

    class Meta:
        indexes = ((("site", "contact", "occurred_at"), False),)


class CartEmail(BaseModel):
    """An abandoned-cart email went out for this cart (the first one counts for recovery)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    cart_token = CharField(max_length=64)
    sent_at = UTCDateTimeField()

    class Meta:
        indexes = ((("site", "cart_token", "sent_at"), False),)


class OrderAttribution(BaseModel):
    """Decided when the order changes: the email it is credited to, and whether it recovered a
    cart."""

    order = ForeignKeyField(Order, primary_key=True, on_delete="CASCADE")
    site = ForeignKeyField(Site, on_delete="CASCADE")
    message_uuid = CharField(max_length=64, null=True)
    flow_key = CharField(max_length=50, null=True)
    step = IntegerField(null=True)
    campaign = CharField(max_length=100, null=True)
    kind = CharField(max_length=5, null=True)
    touched_at = UTCDateTimeField(null=True)
    recovered = BooleanField(default=False)

    class Meta:
        # the orders a message earned (subject A/B reports start from a flow's messages)
        indexes = ((("message_uuid",), False),)


ATTRIBUTION_MODELS: list[type[BaseModel]] = [EmailTouch, CartEmail, OrderAttribution]
