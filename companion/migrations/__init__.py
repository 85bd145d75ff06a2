"""Versioned schema steps, run by `companion migrate` and on start.

Each step is idempotent (creates what is missing), so a fresh database and an upgraded one end
in the same schema. New features append a step (its function in migrations/steps.py); a step never
changes once released.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database, IntegerField, Model

from companion.migrations.steps import (
    add_at_risk_index,
    add_attribution_message_index,
    add_contact_running_totals,
    add_dashboard_indexes,
    add_message_variant,
    add_order_session_index,
    add_pending_events_index,
    add_session_generations,
    create_cohort_months,
    create_coupon_tables,
    create_customer_day_months,
    create_dashboard_sessions,
    create_deleted_refunds,
    create_flow_tables,
    create_import_tables,
    create_intelligence_tables,
    create_metrics_tables,
    create_product_outlook,
    create_stage_groups,
    drop_site_prefix_indexes,
    widen_mysql_text_columns,
)
from companion.models import CORE_MODELS
from companion.models.base import BaseModel, UTCDateTimeField, utcnow


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    applied_at = UTCDateTimeField(default=utcnow)


def _create(models: list[type[Model]]) -> Callable[[Database], None]:
    def step(db: Database) -> None:
        db.create_tables(models, safe=True)

    return step


STEPS: list[tuple[int, str, Callable[[Database], None]]] = [
    (1, "core tables: sites, raw events, contacts, orders, carts, views", _create(CORE_MODELS)),
    (
        4,
        "metrics: daily roll-ups, customer ledger, email touches and order attribution",
        create_metrics_tables,
    ),
    (8, "flows: settings, enrolments, scheduled steps, messages, suppressions", create_flow_tables),
    (
        12,
        "dashboard: contact indexes for stages, segments and top customers",
        add_dashboard_indexes,
    ),
    (
        16,
        "intelligence: product pairs, alerts, forecast cache, refresh runs",
        create_intelligence_tables,
    ),
    (3, "history import: checkpoints per site and resource", create_import_tables),
    (20, "dashboard: cohort months roll-up, filled from the customer-days", create_cohort_months),
    (21, "dashboard: stage and segment counts, filled from the contacts", create_stage_groups),
    (22, "dashboard: contact index for at-risk customers by predicted value", add_at_risk_index),
    (23, "orders: index by session for the sessions roll-up", add_order_session_index),
    (24, "dashboard: server-side sessions and single-use sign-in links", create_dashboard_sessions),
    (30, "MariaDB: text columns are LONGTEXT (TEXT stops at 64 KB)", widen_mysql_text_columns),
    (31, "flows: single-use coupons issued to contacts", create_coupon_tables),
    (32, "flows: the subject variant of each message (A/B tests per step)", add_message_variant),
    (33, "flows: orders found by the message they are credited to", add_attribution_message_index),
    (34, "raw events: index of each site's events still to apply", add_pending_events_index),
    (35, "dashboard: session generations for signing out everywhere", add_session_generations),
    (
        36,
        "dashboard: month roll-up of the breakdowns; products' forecast stored once per day",
        create_product_outlook,
    ),
    (37, "orders: tombstones of refunds the store deleted", create_deleted_refunds),
    (
        38,
        "orders, items, visits: drop the (site) indexes that composite indexes already lead",
        drop_site_prefix_indexes,
    ),
    (
        39,
        "metrics: customer-days per month and next order day, for retention over long periods",
        create_customer_day_months,
    ),
    (
        40,
        "contacts: first order and last refund, so a pass adds to the stored totals",
        add_contact_running_totals,
    ),
]


def pending_steps(db: Database) -> list[tuple[int, str, Callable[[Database], None]]]:
    db.create_tables([SchemaVersion], safe=True)
    done = {row.version for row in SchemaVersion.select(SchemaVersion.version)}
    return [s for s in STEPS if s[0] not in done]


def migrate_database(db: Database) -> list[str]:
    """Apply every pending step in order; return what was done."""
    applied = []
    for version, description, step in pending_steps(db):
        with db.atomic():
            step(db)
            SchemaVersion.insert(version=version).on_conflict_ignore().execute()
        applied.append(f"{version}: {description}")
    return applied
