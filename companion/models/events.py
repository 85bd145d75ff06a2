"""Raw events as received (the source of truth for every queue) and dead letters."""

from __future__ import annotations

from peewee import AutoField, CharField, ForeignKeyField, IntegerField, TextField

from companion.models.base import BaseModel, UTCDateTimeField, utcnow
from companion.models.sites import Site


class RawEvent(BaseModel):
    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    event_id = CharField(max_length=64)
    type = CharField(max_length=40)
    source = CharField(max_length=20)
    occurred_at = UTCDateTimeField()
    received_at = UTCDateTimeField(default=utcnow)
    payload = TextField()
    processed_at = UTCDateTimeField(null=True, index=True)
    failed_at = UTCDateTimeField(null=True)
    error = TextField(null=True)

    class Meta:
        indexes = ((("site", "event_id"), True),)


class DeadLetter(BaseModel):
    """An event we could not use, kept with the reason so nothing the store sent is lost."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    stage = CharField(max_length=20)  # "validation" or "processing"
    event_id = CharField(max_length=200, null=True)
    batch_index = IntegerField(null=True)
    payload = TextField()
    reason = TextField()
    received_at = UTCDateTimeField(default=utcnow, index=True)
