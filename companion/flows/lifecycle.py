"""Hourly scans: win-back, VIP and replenishment (flows/replenishment.py).

They use the intelligence job's `stage`, `p_alive` and `expected_next_order_at` where it filled
them, and order history where it did not. A NOT EXISTS on enrolments keeps each scan to contacts
not yet enrolled for the same lapse, so repeating a scan is cheap and harmless. Each candidate
comes with the moment its trigger happened: what happened before the flow started is held, not
mailed (flows/backlog.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from peewee import SQL, fn

from companion.core.db import retries_deadlocks
from companion.flows.backlog import enrol_scanned
from companion.flows.config import Configs
from companion.flows.enrolment import Candidate
from companion.flows.replenishment import scan_replenishment
from companion.models import Contact, Enrolment, Site

P_ALIVE_LOW = 0.3
OVERDUE = timedelta(days=14)
OLDEST_CUSTOMER = timedelta(days=730)  # nobody is won back after two silent years (history imports)


@retries_deadlocks
def run_lifecycle_scans(now: datetime) -> dict[str, int]:
    configs, added = Configs(), {"win_back": 0, "vip": 0, "replenishment": 0}
    for site in Site.select():
        added["win_back"] += scan_win_back(site, configs, now)
        added["vip"] += scan_vip(site, configs, now)
        added["replenishment"] += scan_replenishment(site, configs, now)
    return added


def _not_enrolled(flow_key: str, since: Any = None) -> Any:
    inner = Enrolment.select(SQL("1")).where(
        Enrolment.contact == Contact.id, Enrolment.flow_key == flow_key
    )
    if since is not None:
        inner = inner.where(Enrolment.enrolled_at >= since)
    return ~fn.EXISTS(inner)


def scan_win_back(site: Site, configs: Configs, now: datetime) -> int:
    after = timedelta(days=configs.site(site)["win_back_after_days"])
    lapsed = (
        Contact.stage.in_(("at_risk", "churned"))
        | (Contact.p_alive < P_ALIVE_LOW)
        | (Contact.expected_next_order_at < now - OVERDUE)
        | (Contact.p_alive.is_null() & (Contact.last_order_at <= now - after))
    )
    rows = Contact.select(Contact.id, Contact.last_order_at, Contact.expected_next_order_at).where(
        Contact.site == site.id,
        Contact.orders_count > 0,
        Contact.erased_at.is_null(),
        Contact.last_order_at >= now - OLDEST_CUSTOMER,
        lapsed,
        _not_enrolled("win_back", Contact.last_order_at),
    )
    return enrol_scanned(
        site.id,
        configs.flow(site, "win_back"),
        [
            (
                Candidate(
                    c.id,
                    f"winback:{c.id}:{c.last_order_at:%Y%m%d}",
                    now,
                    {"last_order_at": c.last_order_at.isoformat()},
                ),
                _lapsed_at(c, after),
            )
            for c in rows.iterator()
        ],
        now,
    )


def _lapsed_at(contact: Contact, after: timedelta) -> datetime:
    """When the customer lapsed, as far as history tells: the earliest of "silent for
    `win_back_after_days`" and "overdue past the expected next order"."""
    moments = [contact.last_order_at + after]
    if contact.expected_next_order_at is not None:
        moments.append(contact.expected_next_order_at + OVERDUE)
    return min(moments)


def scan_vip(site: Site, configs: Configs, now: datetime) -> int:
    staged = Contact.select().where(Contact.site == site.id, Contact.stage.is_null(False)).exists()
    is_vip = (
        (Contact.stage == "vip")
        if staged
        else (Contact.orders_count >= configs.site(site)["vip_min_orders"])
    )
    rows = Contact.select(Contact.id, Contact.last_order_at).where(
        Contact.site == site.id, Contact.erased_at.is_null(), is_vip, _not_enrolled("vip")
    )
    # A VIP became one by an order: the last one is the latest moment that can have happened.
    return enrol_scanned(
        site.id,
        configs.flow(site, "vip"),
        [(Candidate(c.id, f"vip:{c.id}", now), c.last_order_at or now) for c in rows.iterator()],
        now,
    )
