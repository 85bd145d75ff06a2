"""The customers page: lifecycle stages, RFM segments, top and at-risk customers, cohorts.

Every table reads roll-ups or walks an index for a few rows: stage and segment counts as the
last intelligence refresh wrote them, cohorts from the cohort-month roll-up, top and at-risk
customers down the contact indexes. No request groups every contact or customer-day.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from companion import metrics
from companion.dashboard.tables import Table, col
from companion.intelligence.maths.lifecycle import STAGES
from companion.intelligence.maths.rfm import OTHERS, RFM_SEGMENTS
from companion.intelligence.stage_groups import stage_groups
from companion.models import Contact, Site
from companion.profiles import list_contacts

TOP = 20
COHORT_MONTHS = 12
STAGE_HELP = {
    "lead": "Known email, no order yet.",
    "new": "First order recently.",
    "one_time": "One order, some time ago.",
    "repeat": "Two or more orders.",
    "vip": "Among the best customers by orders and spend.",
    "at_risk": "Past their usual reorder time or unlikely to buy again.",
    "churned": "Very unlikely to buy again.",
}


def stages(site: Site) -> Table:
    grouped, _ = stage_groups(site.id, "stage")
    rows = [
        {
            "stage": s.replace("_", " ").capitalize(),
            "key": s,
            "help": STAGE_HELP[s],
            "customers": grouped.get(s, (0, 0))[0],
            "revenue": grouped.get(s, (0, Decimal(0)))[1],
        }
        for s in STAGES
    ]
    table = Table(
        "stages",
        "Lifecycle stages",
        [
            col("stage", "Stage"),
            col("customers", "Customers", "count"),
            col("revenue", "Net revenue to date", "money", "clv"),
        ],
        rows,
    )
    table.rows = rows if any(r["customers"] for r in rows) else []
    table.empty = (
        "Stages are not set yet: they are computed by the intelligence refresh "
        "(the scheduler runs it nightly; to run it now: companion intelligence refresh --site "
        f"{site.public_id})."
    )
    return table


def segments(site: Site) -> Table:
    grouped, _ = stage_groups(site.id, "segment")
    names = [r.name for r in RFM_SEGMENTS] + [OTHERS]
    counts = {n: grouped.get(n, (0, Decimal(0))) for n in names}
    total = sum(count for count, _ in counts.values())
    rows = [
        {
            "segment": n,
            "customers": count,
            "revenue": revenue,
            "share": count / total if total else None,
        }
        for n, (count, revenue) in counts.items()
    ]
    return Table(
        "segments",
        "RFM segments",
        [
            col("segment", "Segment"),
            col("customers", "Customers", "count"),
            col("share", "Share", "percent"),
            col("revenue", "Net revenue to date", "money", "clv"),
        ],
        rows if total else [],
        empty="RFM segments are not set yet: they are computed by the intelligence refresh "
        f"(nightly, or now with: companion intelligence refresh --site {site.public_id}).",
    )


def _customer_row(c: Contact) -> dict[str, Any]:
    name = " ".join(p for p in (c.first_name, c.last_name) if p) or c.email
    return {
        "customer": name,
        "email": c.email,
        "contact_id": c.id,
        "orders": c.orders_count,
        "clv": c.total_spent - c.refunded,
        "predicted_clv": c.predicted_clv_365,
        "p_alive": c.p_alive,
        "stage": (c.stage or "").replace("_", " ") or None,
        "last_order": c.last_order_at,
    }


def top_customers(site: Site) -> Table:
    return Table(
        "top_customers",
        "Top customers by lifetime value",
        [
            col("customer", "Customer", "link"),
            col("orders", "Orders", "count"),
            col("clv", "CLV to date", "money"),
            col("predicted_clv", "Predicted CLV (365 d)", "money"),
            col("stage", "Stage"),
        ],
        [_customer_row(c) for c in top_by_net(site)],
        empty="No customer has a counted order yet.",
    )


def top_by_net(site: Site, top: int = TOP, page: int = 200) -> list[Contact]:
    """The `top` customers by net spend, read down the (site, total_spent) index.

    Net never exceeds gross, so once the gross of the next page falls below the `top`-th best
    net found so far, nobody further down can enter: exact, without sorting every contact.
    """
    best: list[Contact] = []
    offset = 0
    while True:
        rows = list(
            Contact.select()
            .where(Contact.site == site.id, Contact.erased_at.is_null(), Contact.orders_count > 0)
            .order_by(Contact.total_spent.desc(), Contact.id)
            .offset(offset)
            .limit(page)
        )
        best = sorted(best + rows, key=lambda c: (-(c.total_spent - c.refunded), c.id))[:top]
        offset += page
        if len(rows) < page or (
            len(best) == top and rows[-1].total_spent < best[-1].total_spent - best[-1].refunded
        ):
            return best


def search(site: Site, query: str) -> Table:
    """Customers whose email or name contains the query, most recent buyers first."""
    found, total = list_contacts(site.id, q=query, per_page=TOP * 2)
    rows = [
        {
            "customer": " ".join(p for p in (c["first_name"], c["last_name"]) if p) or c["email"],
            "email": c["email"],
            "contact_id": c["id"],
            "orders": c["orders_count"],
            "clv": c["net_spent"],
            "last_order": c["last_order_at"],
        }
        for c in found
    ]
    return Table(
        "search",
        f"Customers matching “{query}” ({total:,})",
        [
            col("customer", "Customer", "link"),
            col("email", "Email"),
            col("orders", "Orders", "count"),
            col("clv", "CLV to date", "money"),
            col("last_order", "Last order", "date"),
        ],
        rows,
        empty=f"No customer's email or name contains “{query}”.",
    )


def at_risk(site: Site) -> Table:
    query = (
        Contact.select()
        .where(Contact.site == site.id, Contact.erased_at.is_null(), Contact.stage == "at_risk")
        .order_by(
            Contact.predicted_clv_365.desc(nulls="LAST"),
            (Contact.total_spent - Contact.refunded).desc(),
        )
        .limit(TOP)
    )
    return Table(
        "at_risk",
        "At-risk customers worth winning back",
        [
            col("customer", "Customer", "link"),
            col("orders", "Orders", "count"),
            col("clv", "CLV to date", "money"),
            col("predicted_clv", "Predicted CLV (365 d)", "money"),
            col("p_alive", "P(alive)", "percent"),
            col("last_order", "Last order", "date"),
        ],
        [_customer_row(c) for c in query],
        empty="No customer is marked at risk. Stages come from the intelligence refresh; the "
        "win-back flow "
        "writes to customers once they are.",
    )


def counted_at(site: Site) -> datetime | None:
    """When the stage and segment counts were written (the last full intelligence refresh)."""
    return stage_groups(site.id, "stage")[1]


def cohorts(site: Site) -> dict[str, Any]:
    """The last twelve first-order month cohorts and the share ordering again in each later
    month."""
    data = metrics.cohorts(site, "month")
    rows = [
        {"cohort": c["cohort"], "customers": c["size"], "retention": _shares(c["months"])}
        for c in data["cohorts"][-COHORT_MONTHS:]
    ]
    return {"rows": rows, "months": max((len(r["retention"]) for r in rows), default=0)}


def _shares(months: list[dict[str, Any]]) -> list[float]:
    by_offset = {m["offset"]: m["share"] for m in months}
    last = max(by_offset, default=0)
    return [by_offset.get(k, 0.0) for k in range(1, last + 1)]


def cohort_table(data: dict[str, Any]) -> Table:
    months = data["months"]
    columns = [col("cohort", "First order"), col("customers", "Customers", "count")] + [
        col(f"m{k}", f"Month {k}", "percent") for k in range(1, months + 1)
    ]
    rows = [
        {
            "cohort": r["cohort"],
            "customers": r["customers"],
            **{f"m{k}": v for k, v in enumerate(r["retention"], start=1)},
        }
        for r in data["rows"]
    ]
    return Table(
        "cohorts",
        "Cohort retention",
        columns,
        rows,
        empty="Cohorts show once customers have placed orders.",
        caption="Share of each month's new customers who ordered again in a later month.",
    )
