"""Where a history import stopped: one cursor per (site, resource), so a rerun on any machine
resumes."""

from __future__ import annotations

from peewee import AutoField, CharField, ForeignKeyField

from companion.models.base import BaseModel, JSONField, UTCDateTimeField, utcnow
from companion.models.sites import Site


class ImportCheckpoint(BaseModel):
    """The importer's cursor for one resource of one site (`orders`, `products`, `customers`)."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    resource = CharField(max_length=40)
    cursor = JSONField()
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "resource"), True),)
