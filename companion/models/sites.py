"""A site is one store; everything else belongs to exactly one site."""

from __future__ import annotations

from peewee import AutoField, CharField, ForeignKeyField, IntegerField

from companion.models.base import BaseModel, JSONField, UTCDateTimeField, utcnow


class Site(BaseModel):
    id = AutoField()
    public_id = CharField(max_length=32, unique=True)
    name = CharField(max_length=200)
    url = CharField(max_length=500)
    timezone = CharField(max_length=64, default="UTC")
    currency = CharField(max_length=3, default="USD")
    secret = CharField(max_length=100)
    woo_secret = CharField(max_length=200, null=True)
    api_token_hash = CharField(max_length=64, unique=True)
    options = JSONField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    # "Sign out everywhere" adds one: sessions and sign-in links of an older generation are over.
    session_generation = IntegerField(default=0)


class DashboardSession(BaseModel):
    """A signed-in dashboard session, kept server side so that signing out ends it everywhere the
    cookie was copied to; `link_hash` makes each sign-in link work once. It lives while its
    `generation` is its site's `session_generation`."""

    id = AutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    link_hash = CharField(max_length=64, unique=True, null=True)
    started_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)
    generation = IntegerField(default=0)
