"""Who buys: contacts, the tracker's visitors, their visits and product views."""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from companion.models.base import BaseModel, MoneyField, UTCDateTimeField, utcnow
from companion.models.sites import Site


class Contact(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    email = CharField(max_length=254)
    first_name = CharField(max_length=100, null=True)
    last_name = CharField(max_length=100, null=True)
    phone = CharField(max_length=50, null=True)
    wp_user_id = CharField(max_length=40, null=True)
    marketing_consent = BooleanField(null=True)
    consent_updated_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    erased_at = UTCDateTimeField(null=True)
    # Totals over counted orders, kept current by ingestion.
    orders_count = IntegerField(default=0)
    total_spent = MoneyField(default=0)
    refunded = MoneyField(default=0)
    first_order_at = UTCDateTimeField(null=True)
    last_order_at = UTCDateTimeField(null=True)
    # What a pass adds its new orders to (ingest.contacts.refresh_totals) and the rescoring reads:
    # the first counted order's total (0 without orders) and when the last refund on a counted
    # order was made. NULL first_order_total: the totals were not worked out here yet (a contact
    # from before migration 40), so the next pass reads this contact's orders.
    first_order_total = MoneyField(null=True)
    first_order_id = BigIntegerField(null=True)  # which it is, for orders at the same moment
    last_refund_at = UTCDateTimeField(null=True)
    # Customer intelligence, filled by its jobs.
    stage = CharField(max_length=20, null=True, index=True)
    stage_reason = TextField(null=True)
    rfm_r = IntegerField(null=True)
    rfm_f = IntegerField(null=True)
    rfm_m = IntegerField(null=True)
    rfm_segment = CharField(max_length=40, null=True, index=True)
    p_alive = FloatField(null=True)
    expected_purchases_90 = FloatField(null=True)
    expected_purchases_365 = FloatField(null=True)
    expected_next_order_at = UTCDateTimeField(null=True)
    predicted_clv_365 = MoneyField(null=True)

    class Meta:
        indexes = ((("site", "email"), True), (("site", "last_order_at"), False))


class Visitor(BaseModel):
    """A tracker session key (first-party cookie) and, once known, whose it is."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    session_key = CharField(max_length=64)
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    first_seen_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "session_key"), True),)


class Visit(BaseModel):
    """A browsing session: page views with no gap longer than 30 minutes."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE", index=False)  # (site, ...) indexes lead
    session_key = CharField(max_length=64)
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    started_at = UTCDateTimeField()
    last_seen_at = UTCDateTimeField()
    page_views = IntegerField(default=0)
    landing_url = TextField(null=True)
    referrer = TextField(null=True)
    utm_source = CharField(max_length=200, null=True)
    utm_medium = CharField(max_length=200, null=True)
    utm_campaign = CharField(max_length=200, null=True)

    class Meta:
        indexes = (
            (("site", "session_key", "last_seen_at"), False),
            (("site", "started_at"), False),
        )


class ProductView(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    session_key = CharField(max_length=64, null=True)
    product_id = CharField(max_length=64)
    name = CharField(max_length=300, null=True)
    price = MoneyField(null=True)
    url = TextField(null=True)
    occurred_at = UTCDateTimeField()

    class Meta:
        indexes = (
            (("site", "contact", "occurred_at"), False),
            (("site", "session_key"), False),
            (("site", "occurred_at"), False),
        )
