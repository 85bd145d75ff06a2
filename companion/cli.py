"""The `companion` command: every process and admin task, reading the same COMPANION_* settings."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Any

import click

from companion import cli_demo, cli_doctor, cli_import, runtime
from companion.db import bind_database
from companion.intelligence.commands import intelligence
from companion.metrics.commands import rollups
from companion.settings import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    runtime.configure(settings)
    return settings


def _database(migrate: bool = True) -> Settings:
    settings = _settings()
    db = bind_database(settings.database_url)
    if migrate:
        from companion.migrations import migrate_database

        with db.connection_context():
            migrate_database(db)
    return settings


HELP = """Sales Companion: sales tracking and revenue flows for WordPress stores.

Every command reads the same COMPANION_* settings (docs/configuration.md).

\b
Examples:
  companion run                                   # embedded: web + worker + scheduler on SQLite
  companion sites add --name Shop --url https://shop.example --timezone Europe/Berlin --currency EUR
  companion sites set-woo-secret --site ID --secret S
  companion import woocommerce --site ID --url https://shop.example --key ck_... --secret cs_...
  companion demo seed --days 180 --orders-per-day 40
  companion dashboard-link --site ID              # a 15-minute sign-in link
  companion rollups rebuild --site ID
  companion intelligence refresh --site ID
  companion doctor                                # what is misconfigured, in words
  companion worker / companion scheduler          # production split, with COMPANION_REDIS_URL
"""


@click.group(help=HELP)
def main() -> None:
    pass


@main.command(help="Apply pending schema migrations (also done on every start).")
def migrate() -> None:
    settings = _settings()
    db = bind_database(settings.database_url)
    from companion.migrations import migrate_database

    with db.connection_context():
        done = migrate_database(db)
    click.echo("\n".join(done) if done else "The database schema is up to date.")


@main.command(help="Embedded mode: web, one worker thread and the scheduler in one process.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    from werkzeug.serving import make_server

    from companion.app import create_app
    from companion.workers import start_thread_worker
    from jobs.schedule import run_forever

    settings = _settings()
    app = create_app(settings)
    start_thread_worker()
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="companion-scheduler", daemon=True).start()
    threading.Thread(target=_move_due_retries, args=(stop,), name="companion-retries", daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupt)  # a plain kill stops cleanly, threads and all
    server = make_server(host, port, app, threaded=True)
    queue = "in-process queue" if settings.is_embedded_queue else settings.redis_url
    click.echo(f"Sales Companion is running at http://{host}:{port}  (database {settings.database_url}, {queue})")
    click.echo(f"Health: http://{host}:{port}/healthz   API description: http://{host}:{port}/openapi.json")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopping.")
    finally:
        stop.set()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _move_due_retries(stop: threading.Event) -> None:
    from companion.workers import enqueue_due_retries

    while not stop.wait(5):
        try:
            enqueue_due_retries()
        except Exception:  # the next beat tries again; a crash here must not stop the server
            logging.getLogger(__name__).exception("moving due retries failed")


@main.command(help="Run an RQ worker (production); start as many as you need.")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@click.option("--fork", is_flag=True, help="Run each job in a forked child (isolation over speed).")
def worker(burst: bool, fork: bool) -> None:
    settings = _database()
    if settings.is_embedded_queue:
        raise click.ClickException("COMPANION_REDIS_URL is not set: a separate worker needs Redis "
                                   "(or use `companion run`, which has its own worker thread).")
    from companion.workers import production_worker

    production_worker(fork=fork).work(burst=burst, with_scheduler=True)


@main.command(help="Run the scheduler; only one is live at a time (Redis lock), others wait.")
def scheduler() -> None:
    settings = _database()
    if settings.is_embedded_queue:
        raise click.ClickException("COMPANION_REDIS_URL is not set: the scheduler needs Redis.")
    from jobs.schedule import run_forever

    try:
        run_forever()
    except KeyboardInterrupt:
        pass


@main.group(help="Stores this service tracks.")
def sites() -> None:
    pass


@sites.command("add", help="Create a site; prints its id, signing secret and API token.")
@click.option("--name", required=True)
@click.option("--url", required=True)
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone, e.g. Europe/Berlin")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 code")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with id, secret, api_token.")
def sites_add(name: str, url: str, timezone: str, currency: str, as_json: bool) -> None:
    from companion.sites import SiteError, create_site

    _database()
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
    click.echo(f"Site id:        {data['id']}\nSigning secret: {data['secret']}\nAPI token:      {data['api_token']}")
    click.echo("Paste these three into WordPress > Settings > Sales Companion. The token is shown only once.")


@sites.command("list", help="List sites.")
@click.option("--json", "as_json", is_flag=True)
def sites_list(as_json: bool) -> None:
    from companion.models import Site

    _database()
    rows = [{"id": s.public_id, "name": s.name, "url": s.url, "timezone": s.timezone, "currency": s.currency}
            for s in Site.select().order_by(Site.id)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("No sites yet. Add one: companion sites add --name Shop --url https://shop.example")
    for r in rows:
        click.echo(f"{r['id']}  {r['name']}  {r['url']}  {r['timezone']}  {r['currency']}")


@sites.command("set-woo-secret", help="Set the secret of the site's WooCommerce webhooks.")
@click.option("--site", "site_id", required=True)
@click.option("--secret", required=True)
def sites_set_woo_secret(site_id: str, secret: str) -> None:
    from companion.sites import SiteError, find_site, set_woo_secret

    _database()
    site = find_site(site_id)
    if site is None:
        raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
    try:
        set_woo_secret(site, secret)
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("WooCommerce webhook secret saved.")


main.add_command(rollups)
main.add_command(intelligence)
main.add_command(cli_demo.demo)
main.add_command(cli_demo.dashboard_link)
main.add_command(cli_doctor.doctor)
main.add_command(cli_import.import_group)


if __name__ == "__main__":
    sys.exit(main())
