"""The flows page: what each flow sent and earned in the period, the outbox, and on/off switches."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, redirect, request, url_for

from companion.core.days import day_bounds
from companion.dashboard import auth
from companion.dashboard.blueprint import bp
from companion.dashboard.pages import BUILDERS, TABLES, page, site_page
from companion.dashboard.periods import Period
from companion.dashboard.tables import Table, col
from companion.flows import config, reports
from companion.flows.coupons import COUPON_STEPS
from companion.flows.definitions import FLOWS
from companion.models import Site

OUTBOX_ROWS = 25


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def flow_reports(site: Site, period: Period) -> dict[str, dict[str, Any]]:
    start, end = day_bounds(period.first, period.last, site.timezone)
    days = reports.LocalDays(period.first, period.last, site.currency)
    return reports.flow_reports(site.id, list(FLOWS), start, end, days)


def flow_table(site: Site, period: Period, found: dict[str, dict[str, Any]]) -> Table:
    described = {f["key"]: f for f in config.describe_all(site)["flows"]}
    rows = []
    for key, definition in FLOWS.items():
        r = found[key]
        delivered = r["sent"]
        rows.append(
            {
                "flow": definition.title,
                "key": key,
                "enabled": described[key]["enabled"],
                "status": "on" if described[key]["enabled"] else "off",
                "enrolled": r["enrolled"],
                "sent": r["sent"],
                "outbox": r["outbox"],
                "opened": r["opened"],
                "clicked": r["clicked"],
                "open_rate": _rate(r["opened"], delivered),
                "click_rate": _rate(r["clicked"], delivered),
                "orders": r["orders"],
                "revenue": r["revenue"],
                "recovered_carts": r["recovered_carts"],
                "trigger": definition.trigger,
            }
        )
    return Table(
        "flows",
        "Flows in the period",
        [
            col("flow", "Flow"),
            col("status", "Status"),
            col("enrolled", "Enrolled", "count"),
            col("sent", "Sent", "count"),
            col("outbox", "In outbox", "count"),
            col("opened", "Opened", "count"),
            col("clicked", "Clicked", "count"),
            col("click_rate", "Click rate", "percent"),
            col("orders", "Orders", "count"),
            col("revenue", "Revenue", "money"),
            col("recovered_carts", "Recovered carts", "count"),
        ],
        rows,
    )


def coupon_table(found: dict[str, dict[str, Any]]) -> Table:
    """Single-use coupons of the steps that offer one (flows/coupons.py), issued in the period."""
    rows = [
        {
            "flow": FLOWS[key].title,
            "step": step,
            **found[key]["steps"][step - 1]["coupons"],
        }
        for key, step in sorted(COUPON_STEPS, key=lambda s: list(FLOWS).index(s[0]))
    ]
    return Table(
        "coupons",
        "Single-use coupons",
        [
            col("flow", "Flow"),
            col("step", "Email", "count"),
            col("issued", "Issued", "count"),
            col("redeemed", "Redeemed", "count"),
            col("redemption_rate", "Redemption rate", "percent"),
            col("discount", "Discount given", "money"),
            col("revenue", "Revenue of those orders", "money"),
        ],
        rows,
        caption="Codes the store made for one customer each, issued in the period. Redeemed: "
        "used by a counted order (a cancelled or unpaid order does not count); revenue is net of "
        "refunds, whatever link was clicked.",
    )


def outbox(site: Site) -> Table:
    messages, total = reports.list_messages(site.id, status="outbox", per_page=OUTBOX_ROWS)
    rows = [
        {
            "created": m["created_at"],
            "flow": FLOWS[m["flow_key"]].title if m["flow_key"] in FLOWS else m["flow_key"],
            "step": m["step"],
            "to": m["to_email"],
            "subject": m["subject"],
        }
        for m in messages
    ]
    title = (
        f"Outbox ({total:,} waiting, newest {len(rows)} shown)"
        if total > len(rows)
        else f"Outbox ({total:,} waiting)"
    )
    return Table(
        "outbox",
        title,
        [
            col("created", "Created", "date"),
            col("flow", "Flow"),
            col("step", "Step", "count"),
            col("to", "To"),
            col("subject", "Subject"),
        ],
        rows,
        empty="The outbox is empty.",
        caption="Without a SendGrid key (COMPANION_SENDGRID_API_KEY) messages are rendered and "
        "kept here instead "
        "of being sent; companion doctor checks the key and the sender."
        if rows
        else None,
    )


def build_flows(site: Site, period: Period, today: date) -> dict[str, Any]:
    found = flow_reports(site, period)
    tables = [flow_table(site, period, found), coupon_table(found), outbox(site)]
    return {"tables": {t.key: t for t in tables}}


BUILDERS["flows"] = build_flows
TABLES["flows"] = lambda site, period, today: flow_table(site, period, flow_reports(site, period))
TABLES["coupons"] = lambda site, period, today: coupon_table(flow_reports(site, period))
TABLES["outbox"] = lambda site, period, today: outbox(site)


@bp.get("/<site_id>/flows", endpoint="flows")
@site_page
def flows_view(site: Site, period: Period, today: date) -> Any:
    return page("flows", site, period, today)


@bp.post("/<site_id>/flows/<flow_key>", endpoint="switch_flow")
@site_page
def switch_flow(site: Site, period: Period, today: date, flow_key: str) -> Any:
    auth.check_csrf()
    if flow_key not in FLOWS:
        abort(404)
    config.update_flows(
        site, {"flows": {flow_key: {"enabled": request.form.get("enabled") == "1"}}}
    )
    back: dict[str, Any] = {"site_id": site.public_id, **period.query()}
    return redirect(url_for("dashboard.flows", **back), code=303)
