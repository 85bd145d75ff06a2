"""What every command starts with: the settings (a clear message when they are wrong) and the
database they name, migrated unless the command only inspects it."""

from __future__ import annotations

import click

from companion.core import runtime
from companion.core.db import bind_database
from companion.core.settings import ConfigError, Settings, load_settings
from companion.migrations import migrate_database


def command_settings() -> Settings:
    """The COMPANION_* settings, configured for this process; a ClickException names what is
    wrong."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    runtime.configure(settings)
    return settings


def open_database(migrate: bool = True) -> Settings:
    """Settings, with the database bound (and its pending migrations applied when `migrate`)."""
    settings = command_settings()
    db = bind_database(settings.database_url)
    if migrate:
        with db.connection_context():
            migrate_database(db)
    return settings
