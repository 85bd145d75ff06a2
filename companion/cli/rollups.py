"""`companion rollups rebuild [--site ID]`: recompute the metric roll-ups from the raw tables."""

from __future__ import annotations

import time

import click

from companion.cli.context import open_database
from companion.metrics.rebuild import rebuild
from companion.models import utcnow
from companion.sites import find_site


@click.group(help="Daily metric roll-ups (kept current by ingestion).")
def rollups() -> None:
    pass


@rollups.command(
    "rebuild",
    help="Recompute the roll-ups of one site (or all) from orders, refunds, visits and carts.",
)
@click.option("--site", "site_id", help="Site id; every site when omitted.")
def rebuild_command(site_id: str | None) -> None:
    open_database()
    if site_id and find_site(site_id) is None:
        raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
    began = time.perf_counter()
    for public_id, timings in rebuild(utcnow(), site_id):
        steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in timings.items())
        click.echo(f"{public_id}: rebuilt ({steps})")
    click.echo(f"Done in {time.perf_counter() - began:.2f}s.")
