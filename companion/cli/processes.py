"""`companion run|worker|scheduler|migrate`: the service's processes (docs/architecture.md)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import replace
from typing import Any

import click
from werkzeug.serving import make_server

from companion.app import create_app
from companion.cli.context import command_settings, open_database
from companion.core.db import bind_database
from companion.core.settings import Settings
from companion.core.workers import enqueue_due_retries, production_worker, start_thread_worker
from companion.migrations import migrate_database
from jobs.schedule import run_forever


@click.command(help="Apply pending schema migrations (also done on every start).")
def migrate() -> None:
    settings = command_settings()
    db = bind_database(settings.database_url)
    with db.connection_context():
        done = migrate_database(db)
    click.echo("\n".join(done) if done else "The database schema is up to date.")


@click.command(help="Embedded mode: web, one worker thread and the scheduler in one process.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    settings = served_at(command_settings(), host, port)
    app = create_app(settings)
    start_thread_worker()
    stop = threading.Event()
    threading.Thread(
        target=run_forever, args=(stop,), name="companion-scheduler", daemon=True
    ).start()
    threading.Thread(
        target=_move_due_retries, args=(stop,), name="companion-retries", daemon=True
    ).start()
    signal.signal(signal.SIGTERM, _interrupt)  # a plain kill stops cleanly, threads and all
    server = make_server(host, port, app, threaded=True)
    queue = "in-process queue" if settings.is_embedded_queue else settings.redis_url
    click.echo(
        f"Sales Companion is running at http://{host}:{port}  (database {settings.database_url}, "
        f"{queue})"
    )
    click.echo(
        f"Health: http://{host}:{port}/healthz   API description: http://{host}:{port}/openapi.json"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopping.")
    finally:
        stop.set()


def served_at(settings: Settings, host: str, port: int) -> Settings:
    """Links in mails and sign-in links point at the address served unless COMPANION_PUBLIC_URL
    says otherwise (a proxy in front)."""
    if settings.public_url_set:
        return settings
    return replace(settings, public_url=f"http://{host}:{port}")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _move_due_retries(stop: threading.Event) -> None:
    while not stop.wait(5):
        try:
            enqueue_due_retries()
        except Exception:  # the next beat tries again; a crash here must not stop the server
            logging.getLogger(__name__).exception("moving due retries failed")


@click.command(help="Run an RQ worker (production); start as many as you need.")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@click.option("--fork", is_flag=True, help="Run each job in a forked child (isolation over speed).")
@click.option(
    "--nice",
    type=click.IntRange(0, 19),
    default=0,
    show_default=True,
    help="Lower this worker's CPU priority by N (as nice(1)), so web processes on the same cores "
    "answer first; applying lags in a burst and catches up after.",
)
def worker(burst: bool, fork: bool, nice: int) -> None:
    if nice:
        os.nice(nice)
    settings = open_database()
    if settings.is_embedded_queue:
        raise click.ClickException(
            "COMPANION_REDIS_URL is not set: a separate worker needs Redis "
            "(or use `companion run`, which has its own worker thread)."
        )
    production_worker(fork=fork).work(burst=burst, with_scheduler=True)


@click.command(help="Run the scheduler; only one is live at a time (Redis lock), others wait.")
def scheduler() -> None:
    settings = open_database()
    if settings.is_embedded_queue:
        raise click.ClickException("COMPANION_REDIS_URL is not set: the scheduler needs Redis.")
    try:
        run_forever()
    except KeyboardInterrupt:
        pass
