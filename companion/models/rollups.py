"""Daily roll-ups the metrics read, so no request scans orders over long ranges.

Every day is a local day in the site's time zone. Order and refund figures are per currency and
kept by additive deltas (see companion/metrics/incremental.py); sessions and carts are recomputed
per touched day. `companion rollups rebuild` recomputes all of them from the raw tables.
"""

from __future__ import annotations

from datetime import date

from peewee import AutoField, CharField, DoubleField, ForeignKeyField, IntegerField, TextField

from companion.models.base import BaseModel, DayField, MoneyField
from companion.models.customers import Contact
from companion.models.sites import Site


class RollupDaily(BaseModel):
    """Orders counted on their paid day, refunds on the day they were made, per currency."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    day = DayField()
    currency = CharField(max_length=3)
    orders = IntegerField(default=0)
    revenue = MoneyField(default=0)
    refunds = MoneyField(default=0)  # refunds made this day (on counted orders of any day)
    refunded_orders = IntegerField(default=0)  # orders counted this day that have any refund
    placed_refunds = MoneyField(default=0)  # refunds (of any day) on orders counted this day
    new_customers = IntegerField(default=0)  # customers whose first counted order is this day
    new_repeaters = IntegerField(default=0)  # customers whose second counted order is this day

    class Meta:
        indexes = ((("site", "currency", "day"), True),)


class RollupDimension(BaseModel):
    """The same per group of a breakdown dimension (product, category, channel, email_flow ...)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    day = DayField()
    currency = CharField(max_length=3)
    dimension = CharField(max_length=16)
    key = CharField(max_length=191)
    orders = IntegerField(default=0)
    revenue = MoneyField(default=0)
    quantity = IntegerField(default=0)
    refunds = MoneyField(default=0)
    refunded_orders = IntegerField(default=0)
    placed_refunds = MoneyField(default=0)

    class Meta:
        indexes = ((("site", "currency", "dimension", "day", "key"), True),)


class RollupDimensionMonth(BaseModel):
    """RollupDimension summed per local calendar month ("2026-11"): a breakdown over a long range
    reads its whole months here and only its partial months' days (or, when fewer, the days of
    those months outside the range, subtracted) from the daily rows."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    month = CharField(max_length=7)
    currency = CharField(max_length=3)
    dimension = CharField(max_length=16)
    key = CharField(max_length=191)
    orders = IntegerField(default=0)
    revenue = MoneyField(default=0)
    quantity = IntegerField(default=0)
    refunds = MoneyField(default=0)
    refunded_orders = IntegerField(default=0)
    placed_refunds = MoneyField(default=0)

    class Meta:
        indexes = ((("site", "currency", "dimension", "month", "key"), True),)


class RollupSessions(BaseModel):
    """Visits started this local day and how many of them led to a counted order."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    day = DayField()
    sessions = IntegerField(default=0)
    converted = IntegerField(default=0)

    class Meta:
        indexes = ((("site", "day"), True),)


class RollupCarts(BaseModel):
    """Carts with items created this local day: idle an hour without an order, and converted."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    day = DayField()
    abandoned = IntegerField(default=0)
    converted = IntegerField(default=0)

    class Meta:
        indexes = ((("site", "day"), True),)


class CustomerLedger(BaseModel):
    """A customer's first and second counted order day per currency (cohorts, repeat rate, CLV)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    currency = CharField(max_length=3)
    first_day = DayField()
    first_month = CharField(max_length=7)
    second_day = DayField(null=True)

    class Meta:
        indexes = ((("contact", "currency"), True), (("site", "currency", "first_month"), False))


class CustomerOrderDay(BaseModel):
    """Each local day a customer had a counted order, with their next such day (retention)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    currency = CharField(max_length=3)
    day = DayField()
    month = CharField(max_length=7)
    orders = IntegerField(default=1)  # counted orders that day
    next_day = DayField()  # 9999-12-31 when there is no later order

    class Meta:
        indexes = (
            (("contact", "currency", "day"), True),
            (("site", "currency", "day", "next_day"), False),
        )


class CustomerDayMonth(BaseModel):
    """Customer-days counted per month of the order day and next order day (a roll-up of
    CustomerOrderDay): retention over a year reads these few thousand rows for the period's whole
    months and the customer-days only for the days at its edges."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    currency = CharField(max_length=3)
    month = CharField(max_length=7)
    next_day = DayField()  # 9999-12-31 when there is no later order
    customers = IntegerField(default=0)

    class Meta:
        indexes = ((("site", "currency", "month", "next_day"), True),)


class CohortMonth(BaseModel):
    """Customers of a first-order month (cohort) with a counted order in `month` (the cohort's own
    month included: its size), and how many of them also ordered in the month after."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    currency = CharField(max_length=3)
    cohort_month = CharField(max_length=7)
    month = CharField(max_length=7)
    customers = IntegerField(default=0)
    retained = IntegerField(default=0)  # of those, customers who ordered in the next month too

    class Meta:
        indexes = ((("site", "currency", "cohort_month", "month"), True),)


class UnitsChange(BaseModel):
    """How many applied batches (or rebuilds) changed the units some product sold on this local
    day, any currency. A stored product outlook names the sum over its eight weeks when it was
    computed; when the sum has moved since, one of those days changed and the outlook is recomputed.
    The row of `ANY_DAY` counts rebuilds, which may change every day."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    day = DayField()
    changes = IntegerField(default=0)

    class Meta:
        indexes = ((("site", "day"), True),)


ANY_DAY = date(1970, 1, 1)


class ProductOutlook(BaseModel):
    """Per product sold in the eight complete local days before `day`: its demand forecast and
    whether it stalled, computed once from the product roll-up's units of those days (the products
    page and its exports read these rows; stock and names are read live). `stamp` is the sum of
    UnitsChange over those days (and ANY_DAY) read before the units were."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    currency = CharField(max_length=3)
    day = DayField()
    product_id = CharField(max_length=191)
    stamp = IntegerField()
    method = CharField(max_length=16)
    forecast = DoubleField()  # units over the forecast days
    point = TextField()  # units per forecast day, a JSON list
    zero_days = IntegerField(null=True)  # stalled: days without a sale since
    daily_rate = DoubleField(null=True)  # stalled: units a day before

    class Meta:
        indexes = ((("site", "currency", "day", "product_id"), True),)


OUTLOOK_MODELS: list[type[BaseModel]] = [RollupDimensionMonth, UnitsChange, ProductOutlook]
RETENTION_MODELS: list[type[BaseModel]] = [CustomerDayMonth]

ROLLUP_MODELS: list[type[BaseModel]] = [
    RollupDaily,
    RollupDimension,
    RollupSessions,
    RollupCarts,
    CustomerLedger,
    CustomerOrderDay,
]
