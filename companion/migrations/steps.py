"""The migration steps: tables, indexes and the back-fills that fill a new roll-up from what is
already stored. Each step is idempotent (creates what is missing); migrations/__init__.py lists them
with their versions. Models only describe tables; what a release adds to an existing database is
here, so models never import the features whose functions fill them.
"""

from __future__ import annotations

from typing import Any

from peewee import Database, MySQLDatabase, PostgresqlDatabase

from companion.intelligence.stage_groups import write_stage_groups
from companion.metrics.cohort_rollup import rebuild_cohort_months
from companion.metrics.rebuild import fill_customer_day_months, fill_dimension_months
from companion.models import Cart, DashboardSession, DeletedRefund, Site, utcnow
from companion.models.attribution import ATTRIBUTION_MODELS
from companion.models.imports import ImportCheckpoint
from companion.models.intelligence import INTELLIGENCE_MODELS, StageGroup
from companion.models.messaging import COUPON_MODELS, MESSAGING_MODELS
from companion.models.rollups import (
    OUTLOOK_MODELS,
    RETENTION_MODELS,
    ROLLUP_MODELS,
    CohortMonth,
    CustomerDayMonth,
    RollupDimensionMonth,
)

# Indexes the dashboard's customer views need at a million orders. Stages, segments and at-risk
# customers are read per site and stage or segment; top customers by lifetime value walk contacts
# by spend from the top. Without these, each is a scan of every contact of the site.
CONTACT_INDEXES = {
    "contact_site_stage": ("site_id", "stage"),
    "contact_site_rfm_segment": ("site_id", "rfm_segment"),
    "contact_site_total_spent": ("site_id", "total_spent"),
}


def add_dashboard_indexes(db: Database) -> None:
    present = {index.name for index in db.get_indexes("contact")}
    for name, columns in CONTACT_INDEXES.items():
        if name not in present:
            db.execute_sql(f"CREATE INDEX {name} ON contact ({', '.join(columns)})")


def add_at_risk_index(db: Database) -> None:
    """At-risk customers by predicted value: the index hands over the top 20 of 150,000 at-risk
    contacts (a million orders) without sorting them all; PostgreSQL needs the NULLS LAST spelled
    out."""
    if "contact_site_stage_predicted" not in {index.name for index in db.get_indexes("contact")}:
        predicted = (
            "predicted_clv_365 DESC NULLS LAST"
            if isinstance(db, PostgresqlDatabase)
            else "predicted_clv_365"
        )
        db.execute_sql(
            f"CREATE INDEX contact_site_stage_predicted ON contact (site_id, stage, {predicted})"
        )


def create_metrics_tables(db: Any) -> None:
    """Migration step: the roll-ups and the email attribution tables."""
    db.create_tables([*ROLLUP_MODELS, *ATTRIBUTION_MODELS], safe=True)


def create_flow_tables(db: Any) -> None:
    """Migration step: the flow tables, and an index so a tick finds newly abandoned carts."""
    db.create_tables(MESSAGING_MODELS, safe=True)
    names = {index.name for index in db.get_indexes(Cart._meta.table_name)}
    if "cart_status_abandoned_at" not in names:
        db.execute(Cart.index(Cart.status, Cart.abandoned_at, name="cart_status_abandoned_at"))


def create_intelligence_tables(db: Any) -> None:
    """Migration step: product pairs, alerts, forecast cache, refresh runs."""
    db.create_tables(INTELLIGENCE_MODELS, safe=True)


def create_import_tables(db: Database) -> None:
    """Migration step: the checkpoint table (idempotent)."""
    db.create_tables([ImportCheckpoint], safe=True)


def create_cohort_months(db: Any) -> None:
    """Migration step: the cohort roll-up, filled from each site's customer-days."""
    db.create_tables([CohortMonth], safe=True)
    for site in Site.select():
        if not CohortMonth.select().where(CohortMonth.site == site.id).exists():
            rebuild_cohort_months(site)


def create_stage_groups(db: Any) -> None:
    """Migration step: the stage and segment counts, filled from the contacts' current stages."""
    db.create_tables([StageGroup], safe=True)
    for site in Site.select():
        if not StageGroup.select().where(StageGroup.site == site.id).exists():
            write_stage_groups(site.id, utcnow())  # a migration runs at the edge: its own clock


def add_order_session_index(db: Database) -> None:
    """Existing stores get the (site, session_key) index a fresh create makes: without it the
    sessions roll-up walked every order of the site for each batch of page views."""
    if "order_site_id_session_key" not in {index.name for index in db.get_indexes("order")}:
        table = "`order`" if isinstance(db, MySQLDatabase) else '"order"'
        db.execute_sql(f"CREATE INDEX order_site_id_session_key ON {table} (site_id, session_key)")


def add_attribution_message_index(db: Database) -> None:
    """Existing stores get the (message_uuid) index of order_attribution a fresh create makes:
    without it a subject A/B report walked every attributed order of the site."""
    if "order_attribution_message_uuid" not in {
        index.name for index in db.get_indexes("order_attribution")
    }:
        db.execute_sql(
            "CREATE INDEX order_attribution_message_uuid ON order_attribution (message_uuid)"
        )


def create_dashboard_sessions(db: Database) -> None:
    """Migration step: server-side dashboard sessions and single-use sign-in links."""
    db.create_tables([DashboardSession], safe=True)


def add_session_generations(db: Database) -> None:
    """Migration step: `site.session_generation` and `dashboard_session.generation`, so that "Sign
    out everywhere" ends every session and sign-in link of a site at once."""
    for table, column in (("site", "session_generation"), ("dashboard_session", "generation")):
        if column not in {c.name for c in db.get_columns(table)}:
            db.execute_sql(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")


def widen_mysql_text_columns(db: Database) -> None:
    """MariaDB/MySQL: every TEXT column becomes LONGTEXT, as new databases create them (TEXT holds
    64 KB; a wholesale order's stored payload was cut there). Nothing to do on other engines."""
    if not isinstance(db, MySQLDatabase):
        return
    columns = db.execute_sql(
        "SELECT TABLE_NAME, COLUMN_NAME, IS_NULLABLE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE = 'text'"
    ).fetchall()
    for table, column, nullable in columns:
        null = "NULL" if nullable == "YES" else "NOT NULL"
        db.execute_sql(f"ALTER TABLE `{table}` MODIFY `{column}` LONGTEXT {null}")


def create_coupon_tables(db: Database) -> None:
    """Migration step: the single-use coupons issued to contacts by flow steps."""
    db.create_tables(COUPON_MODELS, safe=True)


def add_message_variant(db: Database) -> None:
    """Migration step: `message.variant`, the subject ("A" or "B") a step's A/B test gave it."""
    if "variant" not in {column.name for column in db.get_columns("message")}:
        db.execute_sql("ALTER TABLE message ADD COLUMN variant VARCHAR(1) NULL")


def add_pending_events_index(db: Database) -> None:
    """The events of one site still to apply, oldest first: what a worker's pass over a site takes
    (pipeline.take_pending). PostgreSQL and SQLite index only the pending rows (a partial index:
    small, and an applied event leaves it); MariaDB has no partial indexes, so (site, processed_at)
    with InnoDB's primary key after them, which gives the id order."""
    if "raw_event_pending" in {index.name for index in db.get_indexes("raw_event")}:
        return
    if isinstance(db, MySQLDatabase):
        db.execute_sql("CREATE INDEX raw_event_pending ON raw_event (site_id, processed_at)")
    else:
        db.execute_sql(
            "CREATE INDEX raw_event_pending ON raw_event (site_id, id) "
            "WHERE processed_at IS NULL AND failed_at IS NULL"
        )


def create_product_outlook(db: Database) -> None:
    """Migration step: the month roll-up of the breakdowns, filled from each site's daily one; the
    products page's forecast and stalled products, stored once per local day, and the per-day count
    of unit changes that tells a stored one is out of date (empty at first: the first view of a
    day computes them)."""
    db.create_tables(OUTLOOK_MODELS, safe=True)
    for site in Site.select():
        if not RollupDimensionMonth.select().where(RollupDimensionMonth.site == site.id).exists():
            fill_dimension_months(site)


def create_deleted_refunds(db: Database) -> None:
    """Migration step: tombstones of refunds the store deleted (`order.refund_deleted`)."""
    db.create_tables([DeletedRefund], safe=True)


# Tables whose single-column (site_id) index repeats the first column of a composite index of the
# same table: every row written paid for one more index, and no query needs it (the composites
# serve a site's rows, and MariaDB's foreign key on site_id is served by them as well).
SITE_PREFIX_TABLES = ("order", "order_item", "visit")


def drop_site_prefix_indexes(db: Database) -> None:
    """Migration step: drop the (site_id) indexes of order, order_item and visit (order_site_id,
    order_item_site_id, visit_site_id). Found by their columns, so an index MariaDB made for the
    foreign key itself (named after the constraint) goes too."""
    for table in SITE_PREFIX_TABLES:
        indexes = db.get_indexes(table)
        if not any(i.columns[0] == "site_id" and len(i.columns) > 1 for i in indexes):
            continue  # nothing else serves the site's rows: keep it
        for index in indexes:
            if index.columns == ["site_id"] and not index.unique:
                if isinstance(db, MySQLDatabase):
                    db.execute_sql(f"ALTER TABLE `{table}` DROP INDEX `{index.name}`")
                else:
                    db.execute_sql(f'DROP INDEX "{index.name}"')


def create_customer_day_months(db: Database) -> None:
    """Migration step: the customer-days per month and next order day (retention over long
    periods), filled from each site's customer-days."""
    db.create_tables(RETENTION_MODELS, safe=True)
    for site in Site.select():
        if not CustomerDayMonth.select().where(CustomerDayMonth.site == site.id).exists():
            fill_customer_day_months(site)


def add_contact_running_totals(db: Database) -> None:
    """Migration step: `contact.first_order_total`, `first_order_id` and `last_refund_at`, so a pass
    adds new orders to a contact's stored totals instead of reading all of their orders. Left
    NULL: each contact's next pass reads its orders once and fills them."""
    have = {column.name for column in db.get_columns("contact")}
    moment = "TIMESTAMP" if isinstance(db, PostgresqlDatabase) else "DATETIME"
    for column, kind in (
        ("first_order_total", "BIGINT"),
        ("first_order_id", "BIGINT"),
        ("last_refund_at", moment),
    ):
        if column not in have:
            db.execute_sql(f"ALTER TABLE contact ADD COLUMN {column} {kind} NULL")
