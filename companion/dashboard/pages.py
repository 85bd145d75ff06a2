"""The dashboard's pages. Each page is a builder (site, period, today) -> context with its tables,
so the CSV export of a table runs exactly the code that rendered it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, redirect, render_template, request, url_for

from companion.core import runtime
from companion.dashboard import auth, customers, figures, overview, products, timeline
from companion.dashboard.blueprint import bp
from companion.dashboard.periods import PRESETS, Period, parse_period, today_in
from companion.dashboard.tables import Table, to_csv
from companion.models import Site
from companion.profiles import find_contact

Builder = Callable[[Site, Period, date], dict[str, Any]]
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
    total = figures.period_total(figures.totals(site, period.first, period.last), period)
    return {
        "cards": figures.headline(site, period),
        "revenue": figures.revenue_series(site, period),
        "funnel": figures.funnel(total),
        "alerts": overview.alerts(site, today),
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
    ids, matrix = products.daily_units(site, today)
    tables = [
        products.sellers(rows, "revenue"),
        products.sellers(rows, "units"),
        products.refund_rates(rows),
        products.stalled(site, ids, matrix, today),
        products.pairs(site, period),
        products.forecast(site, ids, matrix),
    ]
    return {"tables": {t.key: t for t in tables}}


BUILDERS: dict[str, Builder] = {
    "overview": build_overview,
    "customers": build_customers,
    "products": build_products,
}


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
    table = find_table(site, period, today, table_key)
    filename = f"{site.public_id}-{table_key}-{period.first}-{period.last}.csv"
    return Response(
        to_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def find_table(site: Site, period: Period, today: date, key: str) -> Table:
    for name, builder in BUILDERS.items():
        if key in TABLE_PAGES.get(name, ()):
            return builder(site, period, today)["tables"][key]
    abort(404)


TABLE_PAGES: dict[str, tuple[str, ...]] = {
    "overview": ("channels",),
    "customers": ("stages", "segments", "top_customers", "at_risk", "cohorts"),
    "products": ("top_revenue", "top_units", "refund_rates", "stalled", "pairs", "forecast"),
}
