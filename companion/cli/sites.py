"""`companion sites add|list|set-woo-secret|sign-out-everywhere`: the stores this service tracks."""

from __future__ import annotations

import json
from typing import Any

import click

from companion.cli.context import open_database
from companion.dashboard.auth import end_every_session
from companion.models import Site, utcnow
from companion.sites import SiteError, create_site, find_site, set_woo_secret


@click.group(help="Stores this service tracks.")
def sites() -> None:
    pass


@sites.command("add", help="Create a site; prints its id, signing secret and API token.")
@click.option("--name", required=True)
@click.option("--url", required=True)
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone, e.g. Europe/Berlin")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 code")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object with id, secret, api_token."
)
def sites_add(name: str, url: str, timezone: str, currency: str, as_json: bool) -> None:
    open_database()
    try:
        new = create_site(name, url, timezone, currency)
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None
    _print_new_site(new, as_json)


def _print_new_site(new: Any, as_json: bool) -> None:
    data = {"id": new.site.public_id, "secret": new.secret, "api_token": new.api_token}
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(
        f"Site id:        {data['id']}\nSigning secret: {data['secret']}\nAPI token:      "
        f"{data['api_token']}"
    )
    click.echo(
        "Paste these three into WordPress > Settings > Sales Companion. The token is shown only "
        "once."
    )


@sites.command("list", help="List sites.")
@click.option("--json", "as_json", is_flag=True)
def sites_list(as_json: bool) -> None:
    open_database()
    rows = [
        {
            "id": s.public_id,
            "name": s.name,
            "url": s.url,
            "timezone": s.timezone,
            "currency": s.currency,
        }
        for s in Site.select().order_by(Site.id)
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo(
            "No sites yet. Add one: companion sites add --name Shop --url https://shop.example"
        )
    for r in rows:
        click.echo(f"{r['id']}  {r['name']}  {r['url']}  {r['timezone']}  {r['currency']}")


@sites.command("set-woo-secret", help="Set the secret of the site's WooCommerce webhooks.")
@click.option("--site", "site_id", required=True)
@click.option("--secret", required=True)
def sites_set_woo_secret(site_id: str, secret: str) -> None:
    open_database()
    site = find_site(site_id)
    if site is None:
        raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
    try:
        set_woo_secret(site, secret)
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("WooCommerce webhook secret saved.")


@sites.command(
    "sign-out-everywhere",
    help="End every dashboard session of the site and its unused sign-in links (a leaked cookie "
    "or link); `companion dashboard-link` then signs the owner in again.",
)
@click.option("--site", "site_id", required=True)
def sites_sign_out_everywhere(site_id: str) -> None:
    open_database()
    site = find_site(site_id)
    if site is None:
        raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
    ended = end_every_session(site, utcnow())
    click.echo(
        f"Signed out everywhere: {ended} live dashboard session(s) ended, and every sign-in link "
        f"not used yet. A new link: companion dashboard-link --site {site.public_id}"
    )
