"""Flows and their mail: settings per site, enrolments, scheduled steps, messages, suppressions.

A step row is the unit of work (claimed by a conditional update); a message row is written before
SendGrid is called and is unique per (enrolment, step), so a step is mailed at most once.
"""

from __future__ import annotations

from typing import Any

from peewee import SQL, AutoField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from companion.core.db import is_mysql
from companion.models.base import BaseModel, JSONField, MoneyField, UTCDateTimeField, utcnow
from companion.models.customers import Contact
from companion.models.sites import Site

ENROLMENT_STATUSES = ("active", "held", "completed", "exited")
# "held": qualified before the flow started (flows/backlog.py); no steps until the owner releases it
OPEN_ENROLMENT = ("active", "held")
STEP_STATUSES = ("pending", "claimed", "done", "skipped", "cancelled", "failed")
MESSAGE_STATUSES = ("outbox", "sending", "sent", "retrying", "failed", "uncertain")


class LongTextField(TextField):
    """Rendered HTML can pass MySQL's 64 KB TEXT; LONGTEXT there, TEXT elsewhere."""

    def ddl_datatype(self, ctx: Any) -> Any:
        return SQL("LONGTEXT") if is_mysql() else super().ddl_datatype(ctx)


class FlowSetting(BaseModel):
    """The owner's changes to one flow (or, with flow_key "_site", to every flow of the site)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    flow_key = CharField(max_length=40)
    config = JSONField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "flow_key"), True),)


class Enrolment(BaseModel):
    """One contact in one flow for one reason (`key`: the order, cart, subscription...)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    flow_key = CharField(max_length=40)
    key = CharField(max_length=120)
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    status = CharField(max_length=12, default="active")
    exit_reason = CharField(max_length=40, null=True)
    context = JSONField(null=True)
    started_at = UTCDateTimeField()  # the trigger's moment; step delays count from here
    enrolled_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = (
            (("site", "flow_key", "key"), True),
            (("site", "contact", "status"), False),
            (("site", "flow_key", "enrolled_at"), False),
        )


class ScheduledStep(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    enrolment = ForeignKeyField(Enrolment, on_delete="CASCADE")
    step = IntegerField()
    due_at = UTCDateTimeField()
    status = CharField(max_length=12, default="pending")
    outcome = CharField(max_length=60, null=True)  # why it was skipped, cancelled or failed
    claim_token = CharField(max_length=32, null=True)
    claimed_at = UTCDateTimeField(null=True)
    enqueued_at = UTCDateTimeField(null=True)
    defer_count = IntegerField(default=0)

    class Meta:
        indexes = (
            (("enrolment", "step"), True),
            (("status", "due_at"), False),
            (("status", "claimed_at"), False),
        )


class MessageBody(BaseModel):
    """Rendered HTML and text, stored once however many recipients share it (broadcasts)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    digest = CharField(max_length=64)
    html = LongTextField()
    text = LongTextField()

    class Meta:
        indexes = ((("site", "digest"), True),)


class Message(BaseModel):
    id = AutoField()
    uuid = CharField(max_length=36, unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    enrolment = ForeignKeyField(Enrolment, null=True, on_delete="SET NULL")
    step = IntegerField(null=True)
    flow_key = CharField(max_length=40)
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    to_email = CharField(max_length=254)
    to_name = CharField(max_length=200, null=True)
    from_email = CharField(max_length=254)
    from_name = CharField(max_length=200, null=True)
    reply_to = CharField(max_length=254, null=True)
    subject = TextField()
    variant = CharField(max_length=1, null=True)  # "A" or "B" while the step tests two subjects
    body = ForeignKeyField(MessageBody, on_delete="CASCADE")
    substitutions = JSONField(null=True)  # per-recipient values of a shared body
    headers = JSONField(null=True)
    links = JSONField(null=True)  # original URLs, in link-index order
    is_marketing = BooleanField(default=True)
    status = CharField(max_length=12)
    provider_id = CharField(max_length=120, null=True)
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    sending_since = UTCDateTimeField(null=True)
    sent_at = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)
    opened_at = UTCDateTimeField(null=True)
    clicked_at = UTCDateTimeField(null=True)
    last_clicked_at = UTCDateTimeField(null=True)
    bounced_at = UTCDateTimeField(null=True)
    complained_at = UTCDateTimeField(null=True)
    unsubscribed_at = UTCDateTimeField(null=True)
    open_count = IntegerField(default=0)
    click_count = IntegerField(default=0)

    class Meta:
        indexes = (
            (("enrolment", "step"), True),
            (("status", "sending_since"), False),
            (("status", "next_attempt_at"), False),
            (("site", "flow_key", "created_at"), False),
            (("site", "contact", "created_at"), False),
            (("site", "status", "created_at"), False),
        )


class Suppression(BaseModel):
    """An address that gets no mail from this site: unsubscribed, bounced or complained."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    email = CharField(max_length=254)
    reason = CharField(max_length=20)
    message = ForeignKeyField(Message, null=True, on_delete="SET NULL")
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("site", "email"), True),)


class FlowCursor(BaseModel):
    """How far a scan got (newly abandoned carts, expiring subscriptions...), so a tick reads
    only what is new; a scan restarted mid-way repeats a window and its inserts are ignored."""

    name = CharField(max_length=80, primary_key=True)
    position = UTCDateTimeField()


COUPON_STATES = ("pending", "created", "refused")
# pending: recorded, the store not yet confirmed it; created: the store holds it (the mail may go);
# refused: the store said no for good (not supported, a code it already holds for someone else)


class IssuedCoupon(BaseModel):
    """A single-use code made for one contact and one step (flows/coupons.py): recorded before the
    store is asked to create it, so a retry asks for the same code and the store makes it once."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    enrolment = ForeignKeyField(Enrolment, null=True, on_delete="SET NULL")
    flow_key = CharField(max_length=40)
    step = IntegerField()
    code = CharField(max_length=60)  # upper case; stores compare codes case-insensitively
    discount_type = CharField(max_length=12)  # percent or fixed_cart
    amount = MoneyField()
    minimum_amount = MoneyField(null=True)
    individual_use = BooleanField(default=True)
    status = CharField(max_length=10, default="pending")
    attempts = IntegerField(default=0)
    error = TextField(null=True)  # the store's last answer when it did not create it
    store_id = CharField(max_length=64, null=True)  # the coupon's id in the store
    issued_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    created_at = UTCDateTimeField(null=True)  # when the store confirmed it
    redeemed_at = UTCDateTimeField(null=True)
    order_id = IntegerField(null=True)  # our Order.id of the order that used it
    discount = MoneyField(null=True)  # that order's discount

    class Meta:
        indexes = (
            (("site", "code"), True),
            (("enrolment", "step"), True),
            (("site", "flow_key", "issued_at"), False),
        )


MESSAGING_MODELS: list[type[BaseModel]] = [
    FlowSetting,
    Enrolment,
    ScheduledStep,
    MessageBody,
    Message,
    Suppression,
    FlowCursor,
]
COUPON_MODELS: list[type[BaseModel]] = [IssuedCoupon]
