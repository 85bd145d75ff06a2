"""Indexes the dashboard's customer views need at a million orders (a migration step).

Stages, segments and at-risk customers are read per site and stage or segment; top customers by
lifetime value walk contacts by spend from the top. Without these, each is a scan of every
contact of the site.
"""
from __future__ import annotations

from peewee import Database, PostgresqlDatabase

INDEXES = {
    "contact_site_stage": ("site_id", "stage"),
    "contact_site_rfm_segment": ("site_id", "rfm_segment"),
    "contact_site_total_spent": ("site_id", "total_spent"),
}


def add_dashboard_indexes(db: Database) -> None:
    present = {index.name for index in db.get_indexes("contact")}
    for name, columns in INDEXES.items():
        if name not in present:
            db.execute_sql(f"CREATE INDEX {name} ON contact ({', '.join(columns)})")


def add_at_risk_index(db: Database) -> None:
    """At-risk customers by predicted value: the index hands over the top 20 of 150,000 at-risk
    contacts (a million orders) without sorting them all; PostgreSQL needs the NULLS LAST spelled out."""
    if "contact_site_stage_predicted" not in {index.name for index in db.get_indexes("contact")}:
        predicted = "predicted_clv_365 DESC NULLS LAST" if isinstance(db, PostgresqlDatabase) else "predicted_clv_365"
        db.execute_sql(f"CREATE INDEX contact_site_stage_predicted ON contact (site_id, stage, {predicted})")
