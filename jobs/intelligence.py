"""Intelligence jobs: the nightly refresh of every site and the alert scan (enqueued by the
scheduler).

Each re-reads state and is safe to run twice: a refresh recomputes everything from the orders,
and alerts are unique per (site, kind, product, start day) and mailed once (`notified_at`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companion.core import runtime
from companion.core.db import database
from companion.flows.tick import new_run
from companion.intelligence import alert_mail, alerts
from companion.intelligence.outlook import prepare_outlooks
from companion.intelligence.refresh import refresh_site
from companion.models import Site, utcnow
from companion.models.intelligence import RefreshRun

NIGHTLY_HOUR_UTC = 2  # refresh once a day, after 02:00 UTC


def last_night(now: datetime) -> datetime:
    today = now.replace(hour=NIGHTLY_HOUR_UTC, minute=0, second=0, microsecond=0)
    return today if now >= today else today - timedelta(days=1)


def nightly_refresh() -> list[int]:
    """Enqueue a refresh of every site not refreshed since last night. Harmless to repeat: checks
    the runs."""
    with database.connection_context():
        since = last_night(utcnow())
        due = [
            s.id
            for s in Site.select(Site.id)
            if not RefreshRun.select()
            .where(
                RefreshRun.site == s.id,
                RefreshRun.is_backtest == False,
                RefreshRun.started_at >= since,
            )
            .exists()
        ]
    for site_id in due:
        runtime.enqueue(refresh_site_job, site_id)
    return due


def refresh_site_job(site_id: int) -> dict[str, Any] | None:
    """Recompute one site's intelligence. Harmless to repeat: it recomputes from the orders."""
    with database.connection_context():
        site = Site.get_or_none(Site.id == site_id)
        return None if site is None else refresh_site(site, utcnow())


def scan_alerts() -> dict[str, int]:
    """Scan every site for alerts and mail the owner the new ones. Harmless to repeat: see the
    module doc."""
    found = {}
    with database.connection_context():
        for site in Site.select():
            now = utcnow()
            found[site.public_id] = len(alerts.scan_site(site, now))
            alert_mail.notify(site, now, new_run(runtime.settings(), now))
    return found


def prepare_product_outlooks() -> dict[str, int]:
    """Each site's product outlook for its new local day, so the owner's first view of the
    products page reads it. Harmless to repeat: a current stored outlook is kept."""
    with database.connection_context():
        return prepare_outlooks(utcnow())
