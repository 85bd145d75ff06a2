"""The dashboard's pages. Each page is a builder (site, period, today) -> context with its tables,
so the CSV export of a table runs exactly the code that rendered it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from companion.core import runtime
from companion.dashboard import auth, customers, figures, overview, products, timeline
from companion.dashboard.blueprint import bp
from companion.dashboard.periods import PRESETS, Period, parse_period, today_in
from companion.dashboard.tables import Table, csv_lines
from companion.intelligence.outlook import Outlook, outlook
from companion.models import Site
from companion.profiles import find_contact

Builder = Callable[[Site, Period, date], dict[str, Any]]
TableBuilder = Callable[[Site, Period, date], Table]
NAV = (
    ("overview", "Overview"),
    ("customers", "Customers"),
    ("products", "Products"),
    ("flows", "Flows"),
)


def site_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Resolve the signed-in site (or send the visitor to sign in) and the period of the page."""

    @wraps(view)
    def wrapper(site_id: str, **kwargs: Any) -> Any:
        site = auth.require_site(site_id)
        if site is None:
            return redirect(url_for("dashboard.login_form", next=request.full_path.rstrip("?")))
        today = today_in(site.timezone)
        return view(site, parse_period(request.args, today), today, **kwargs)

    return wrapper


def render_page(name: str, site: Site, period: Period, context: dict[str, Any]) -> str:
    return render_template(
        f"dashboard/{name}.html",
        site=site,
        period=period,
        presets=PRESETS,
        nav=NAV,
        page=name,
        public_url=runtime.settings().public_url,
        **context,
    )


def build_overview(site: Site, period: Period, today: date) -> dict[str, Any]:
    """One read of the daily roll-ups serves the cards, their sparklines, the revenue chart, the
    funnel and the alerts (each read its own days before: seven reads of a year for 12 months)."""
    alerts_first, alerts_last = overview.alert_days(today)
    first = period.previous().first if period.compare else period.first
    days = figures.totals(site, min(first, alerts_first), max(period.last, alerts_last))
    total = figures.period_total(days, period)
    return {
        "cards": figures.headline(site, period, days),
        "revenue": figures.revenue_series(site, period, days),
        "funnel": figures.funnel(total),
        "alerts": overview.alerts(site, today, days),
        "tables": {"channels": overview.channels(site, period)},
        "has_sessions": total.sessions > 0,
    }


def build_customers(site: Site, period: Period, today: date) -> dict[str, Any]:
    cohorts = customers.cohorts(site)
    tables = [
        customers.stages(site),
        customers.segments(site),
        customers.cohort_table(cohorts),
        customers.top_customers(site),
        customers.at_risk(site),
    ]
    counted = customers.counted_at(site)
    as_of = counted.replace(tzinfo=UTC).astimezone(ZoneInfo(site.timezone)) if counted else None
    return {"tables": {t.key: t for t in tables}, "cohorts": cohorts, "as_of": as_of}


def build_products(site: Site, period: Period, today: date) -> dict[str, Any]:
    rows = products.product_rows(site, period)
    outlooks = outlook(site, today)
    tables = [
        products.sellers(rows, "revenue"),
        products.sellers(rows, "units"),
        products.refund_rates(rows),
        products.stalled(site, outlooks, today),
        products.pairs(site, period),
        products.forecast(site, outlooks),
    ]
    return {"tables": {t.key: t for t in tables}}


BUILDERS: dict[str, Builder] = {
    "overview": build_overview,
    "customers": build_customers,
    "products": build_products,
}


def _product_rows_table(make: Callable[[list[dict[str, Any]]], Table]) -> TableBuilder:
    return lambda site, period, today: make(products.product_rows(site, period))


def _outlook_table(make: Callable[[Site, list[Outlook], date], Table]) -> TableBuilder:
    def build(site: Site, period: Period, today: date) -> Table:
        return make(site, outlook(site, today), today)

    return build


TABLES: dict[str, TableBuilder] = {
    "channels": lambda site, period, today: overview.channels(site, period),
    "stages": lambda site, period, today: customers.stages(site),
    "segments": lambda site, period, today: customers.segments(site),
    "top_customers": lambda site, period, today: customers.top_customers(site),
    "at_risk": lambda site, period, today: customers.at_risk(site),
    "cohorts": lambda site, period, today: customers.cohort_table(customers.cohorts(site)),
    "top_revenue": _product_rows_table(lambda rows: products.sellers(rows, "revenue")),
    "top_units": _product_rows_table(lambda rows: products.sellers(rows, "units")),
    "refund_rates": _product_rows_table(products.refund_rates),
    "stalled": _outlook_table(products.stalled),
    "pairs": lambda site, period, today: products.pairs(site, period),
    "forecast": _outlook_table(lambda site, rows, today: products.forecast(site, rows)),
}
"""Each exportable table on its own: an export builds the one table it writes with the same
functions as its page (so it holds the rows the page shows), not the whole page."""


def page(name: str, site: Site, period: Period, today: date) -> Any:
    if not figures.has_data(site):
        return render_page("connect", site, period, {})
    return render_page(name, site, period, BUILDERS[name](site, period, today))


@bp.get("/<site_id:site_id>/", endpoint="overview")
@site_page
def overview_page(site: Site, period: Period, today: date) -> Any:
    return page("overview", site, period, today)


@bp.get("/<site_id>/customers", endpoint="customers")
@site_page
def customers_page(site: Site, period: Period, today: date) -> Any:
    return page("customers", site, period, today)


@bp.get("/<site_id>/products", endpoint="products")
@site_page
def products_page(site: Site, period: Period, today: date) -> Any:
    return page("products", site, period, today)


@bp.get("/<site_id>/contacts", endpoint="contacts")
@site_page
def contacts_page(site: Site, period: Period, today: date) -> Any:
    query = request.args.get("q", "").strip()[:100]
    table = customers.search(site, query) if query else None
    return render_page("contacts", site, period, {"q": query, "table": table})


@bp.get("/<site_id>/contacts/<contact_id>", endpoint="contact_page")
@site_page
def contact_page(site: Site, period: Period, today: date, contact_id: str) -> Any:
    contact = find_contact(site.id, contact_id)
    if contact is None:
        abort(404)
    return render_page("contact", site, period, timeline.timeline(contact, site.timezone))


@bp.get("/<site_id>/export/<table_key>.csv")
@site_page
def export(site: Site, period: Period, today: date, table_key: str) -> Any:
    if table_key not in TABLES:
        abort(404)
    table = TABLES[table_key](site, period, today)
    filename = f"{site.public_id}-{table_key}-{period.first}-{period.last}.csv"
    return Response(
        stream_with_context(csv_lines(table)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
