"""How many contacts each lifecycle stage and RFM segment holds, and their net spend, as of the
last full refresh.

The refresh sets every contact's stage and segment, so it writes these counts in the same
transaction: the customers page reads a dozen rows instead of grouping every contact. Between
refreshes a new order rescores its customer at once, but the counts stay those of the refresh
(the page says so); keeping them exact would need every writer of a contact's totals (ingest,
imports, erasure) to report before and after.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from peewee import fn

from companion.core.db import is_mysql
from companion.models import Contact
from companion.models.base import money_from_units
from companion.models.intelligence import StageGroup

KINDS = {"stage": Contact.stage, "segment": Contact.rfm_segment}


def write_stage_groups(site_id: int, at: datetime) -> None:
    """Replace the site's counts with its contacts' current stages and segments (erased ones left
    out),
    as of `at`: the refresh's moment (a migration that first fills them: when it ran)."""
    net = fn.SUM(Contact.total_spent - Contact.refunded).coerce(False)
    rows = []
    for kind, column in KINDS.items():
        query = (
            Contact.select(column, fn.COUNT(Contact.id), net)
            .where(Contact.site == site_id, Contact.erased_at.is_null(), column.is_null(False))
            .group_by(column)
            .tuples()
        )
        rows += [
            {
                "site": site_id,
                "kind": kind,
                "key": key,
                "customers": count,
                "net_spent": money_from_units(units or 0),
                "written_at": at,
            }
            for key, count, units in query
        ]
    # Written in place (upsert, then the keys no contact has any more deleted) rather than deleted
    # and inserted again: two workers refreshing one small shop at once then wait for each other's
    # row instead of the second one's insert breaking the unique key the first one just filled
    # (PostgreSQL, READ COMMITTED: the second delete did not see the first one's new rows).
    for kind in KINDS:
        keys = [row["key"] for row in rows if row["kind"] == kind]
        gone = StageGroup.delete().where(StageGroup.site == site_id, StageGroup.kind == kind)
        (gone.where(StageGroup.key.not_in(keys)) if keys else gone).execute()
    if rows:
        target = (
            {}
            if is_mysql()
            else {"conflict_target": [StageGroup.site, StageGroup.kind, StageGroup.key]}
        )
        StageGroup.insert_many(rows).on_conflict(
            preserve=[StageGroup.customers, StageGroup.net_spent, StageGroup.written_at], **target
        ).execute()


def stage_groups(site_id: int, kind: str) -> tuple[dict[str, tuple[int, Decimal]], datetime | None]:
    """{stage or segment: (contacts, net spend)} and when the refresh wrote them (None: never)."""
    found = list(StageGroup.select().where(StageGroup.site == site_id, StageGroup.kind == kind))
    return (
        {g.key: (g.customers, g.net_spent) for g in found},
        max((g.written_at for g in found), default=None),
    )
