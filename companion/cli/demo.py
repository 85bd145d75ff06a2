"""`companion demo seed|ensure` and `companion dashboard-link`: a demo store and a way in."""

from __future__ import annotations

from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from companion.app import create_app
from companion.cli.context import command_settings, open_database
from companion.core import runtime
from companion.dashboard.auth import login_link
from companion.demo.seed import DemoError, create_demo_site, find_demo_site, seed
from companion.sites import find_site

DEFAULT_DAYS = 183  # a little over six months: predictions need 180 days of order history
DEFAULT_ORDERS_PER_DAY = 40.0
ENSURE_ORDERS_PER_DAY = 20.0  # the first `make run` should not keep a newcomer waiting long


@click.group(
    help="A demo store written through the real event API.\n\n"
    "Examples:\n\n  companion demo seed --days 180 --orders-per-day 40\n\n"
    "  companion demo ensure --host 127.0.0.1 --port 8000"
)
def demo() -> None:
    pass


def _app() -> Any:
    return create_app(command_settings())


def _seed_with_progress(app: Any, site: Any, days: int, orders_per_day: float) -> Any:
    with Progress(
        TextColumn("Writing the demo store"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("days", total=days)
        return seed(
            app,
            site,
            days,
            orders_per_day,
            progress=lambda done, _: bar.update(task, completed=done),
        )


@demo.command(
    "seed",
    help="Write DAYS days of a coffee shop ending today into a site (a new demo site unless "
    "--site).",
)
@click.option(
    "--site", "site_id", help="An existing site id; a new demo site is created when omitted."
)
@click.option("--days", default=DEFAULT_DAYS, show_default=True, type=click.IntRange(1, 3 * 366))
@click.option(
    "--orders-per-day",
    default=DEFAULT_ORDERS_PER_DAY,
    show_default=True,
    type=click.FloatRange(0.5, 2000),
)
def seed_command(site_id: str | None, days: int, orders_per_day: float) -> None:
    app = _app()
    with app.app_context():
        new = None if site_id else create_demo_site()
        site = find_site(site_id) if site_id else new.site  # type: ignore[union-attr]
        if site is None:
            raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
        try:
            result = _seed_with_progress(app, site, days, orders_per_day)
        except DemoError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(
            f"Wrote {result.events:,} events ({result.orders:,} order snapshots, "
            f"{result.email_orders:,} "
            f"orders credited to emails) in {result.seconds:.0f} s."
        )
        _print_way_in(site, new_token=new.api_token if new else None)


@demo.command(
    "ensure", help="Create and seed a demo site if the database has no site yet; print the way in."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--days", default=DEFAULT_DAYS, show_default=True, type=click.IntRange(1, 3 * 366))
@click.option(
    "--orders-per-day",
    default=ENSURE_ORDERS_PER_DAY,
    show_default=True,
    type=click.FloatRange(0.5, 2000),
)
def ensure_command(host: str, port: int, days: int, orders_per_day: float) -> None:
    app = _app()
    with app.app_context():
        site = find_demo_site()
        if site is None:
            click.echo(
                "No store yet: creating a demo store with six months of orders (a minute or two)."
            )
            new = create_demo_site()
            _seed_with_progress(app, new.site, days, orders_per_day)
            _print_way_in(new.site, _local_url(host, port), new.api_token)
            return
        _print_way_in(site, _local_url(host, port))


def _local_url(host: str, port: int) -> str:
    """COMPANION_PUBLIC_URL when it is set (scripts/run-demo.sh sets it), else the address being
    served."""
    settings = runtime.settings()
    return settings.public_url if settings.public_url_set else f"http://{host}:{port}"


def _print_way_in(site: Any, public_url: str | None = None, new_token: str | None = None) -> None:
    url = (public_url or runtime.settings().public_url).rstrip("/")
    click.echo(f"Site id:     {site.public_id}")
    if new_token:
        click.echo(f"API token:   {new_token}   (shown once; signs in on the dashboard's form too)")
    click.echo(f"Dashboard:   {url}/dashboard/{site.public_id}/")
    click.echo(
        f"Sign in:     {login_link(site, url)}   (valid 15 minutes; "
        f"`companion dashboard-link --site {site.public_id}` makes a new one)"
    )


@click.command(
    "dashboard-link",
    help="Print a short-lived URL that signs the owner in to a site's dashboard.\n\n"
    "Example:\n\n  companion dashboard-link --site 3f9c0a1b2c3d4e5f",
)
@click.option("--site", "site_id", required=True)
@click.option(
    "--minutes",
    default=15,
    show_default=True,
    type=click.IntRange(1, 24 * 60),
    help="How long the link works.",
)
def dashboard_link(site_id: str, minutes: int) -> None:
    open_database()
    site = find_site(site_id)
    if site is None:
        raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
    click.echo(login_link(site, runtime.settings().public_url, ttl=minutes * 60))
