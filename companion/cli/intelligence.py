"""`companion intelligence refresh [--site ID] [--as-of DATE]`: recompute scores, stages,
predictions, pairs."""

from __future__ import annotations

import time

import click

from companion.cli.context import open_database
from companion.intelligence.refresh import end_of_day, refresh_sites
from companion.models import utcnow
from companion.sites import find_site


@click.group(
    help="Customer intelligence: RFM, stages, predictions, pairs (nightly; or now with refresh)."
)
def intelligence() -> None:
    pass


@intelligence.command(
    "refresh",
    help="Recompute every customer's RFM, stage and predictions, and the product "
    "pairs, of one site (or all). --as-of uses only orders and refunds known "
    "at the end of that UTC day, for backtests.",
)
@click.option("--site", "site_id", help="Site id; every site when omitted.")
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="A past date (YYYY-MM-DD)."
)
def refresh_command(site_id: str | None, as_of: object) -> None:
    open_database()
    if site_id and find_site(site_id) is None:
        raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
    now = utcnow()
    moment = end_of_day(as_of.date()) if as_of is not None and hasattr(as_of, "date") else None
    if moment is not None and moment.date() >= now.date():
        raise click.ClickException("--as-of must be a past date.")
    began = time.perf_counter()
    for result in refresh_sites(now, site_id, moment):
        steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result["timings"].items())
        gate = (
            "predictions made"
            if result["predictions"]
            else f"no predictions: {result['gate_reason']}"
        )
        click.echo(
            f"{result['site']}: {result['customers']} customers as of "
            f"{result['as_of']:%Y-%m-%d %H:%M}, "
            f"{result['pairs']} product pairs; {gate} ({steps})"
        )
    click.echo(f"Done in {time.perf_counter() - began:.2f}s.")
