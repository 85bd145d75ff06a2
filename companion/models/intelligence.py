"""What the intelligence refresh stores besides the contact columns: product pairs, alerts,
cached demand forecasts and a record of every refresh (with what incremental scoring needs)."""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from companion.models.base import (
    BaseModel,
    DayField,
    JSONField,
    MoneyField,
    UTCDateTimeField,
    utcnow,
)
from companion.models.sites import Site


class ProductPair(BaseModel):
    """Two products bought together in counted orders; stored once per direction (a -> b)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    product = CharField(max_length=64)  # the store's product id ("bought this")
    partner = CharField(max_length=64)  # ("also bought this")
    orders = IntegerField()  # orders with both
    support = DoubleField()
    confidence = DoubleField()  # product -> partner
    lift = DoubleField()

    class Meta:
        indexes = ((("site", "product", "lift"), False),)


class Alert(BaseModel):
    """An incident: revenue, refunds or conversion off their weekday baseline, or a stalled
    product."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kind = CharField(
        max_length=30
    )  # revenue_drop, refund_spike, conversion_drop, product_refund_spike, stalled_product
    key = CharField(max_length=64, default="")  # product id where the alert is about one product
    started_on = DayField()  # the site-local day the incident began
    status = CharField(max_length=10, default="open")  # open, resolved
    title = CharField(max_length=200)
    detail = TextField()
    baseline = DoubleField(null=True)
    observed = DoubleField(null=True)
    relative_change = DoubleField(null=True)
    product_id = CharField(max_length=64, null=True)
    order_ids = JSONField(null=True)  # affected orders (ids), newest first, at most 50
    detected_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    resolved_at = UTCDateTimeField(null=True)
    notified_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("site", "kind", "key", "started_on"), True), (("site", "status"), False))


class DemandForecastCache(BaseModel):
    """A product's forecast as computed from the roll-ups of one day (reused until the next day)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    product_id = CharField(max_length=64)
    computed_for = DayField()  # the last complete local day in the history
    days = IntegerField()
    payload = JSONField()

    class Meta:
        indexes = ((("site", "product_id", "days"), True),)


class RefreshRun(BaseModel):
    """One intelligence refresh of a site, and the thresholds and fits a new order is scored
    with."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    started_at = UTCDateTimeField(default=utcnow)
    finished_at = UTCDateTimeField(null=True)
    as_of = UTCDateTimeField()
    is_backtest = BooleanField(default=False)
    customers = IntegerField(default=0)
    gate_met = BooleanField(default=False)
    gate_reason = TextField(null=True)
    model = JSONField(null=True)  # fits, RFM thresholds, reorder interval, VIP threshold
    timings = JSONField(null=True)

    class Meta:
        indexes = ((("site", "started_at"), False),)


class StageGroup(BaseModel):
    """Contacts per lifecycle stage or RFM segment, and their net spend, as the last full refresh
    wrote them (the customers page reads these few rows instead of grouping every contact)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kind = CharField(max_length=8)  # stage, segment
    key = CharField(max_length=40)
    customers = IntegerField(default=0)
    net_spent = MoneyField(default=0)  # sum of total_spent - refunded
    written_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "kind", "key"), True),)


INTELLIGENCE_MODELS: list[type[BaseModel]] = [ProductPair, Alert, DemandForecastCache, RefreshRun]
