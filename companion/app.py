"""The app factory: settings, database binding, the API's and the dashboard's blueprints.
Nothing happens at import."""

from __future__ import annotations

import logging

from flask import Flask

from companion import api
from companion.core import runtime
from companion.core.db import bind_database, database
from companion.core.logs import redact_access_logs
from companion.core.settings import Settings, load_settings
from companion.dashboard import bp as dashboard_bp
from companion.migrations import migrate_database


def create_app(config: Settings | None = None, migrate: bool = True) -> Flask:
    settings = config or load_settings()
    runtime.configure(settings)
    db = bind_database(settings.database_url)
    if migrate:
        with db.connection_context():
            migrate_database(db)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes + 1024,
        JSON_SORT_KEYS=False,
        COMPANION_SETTINGS=settings,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.basicConfig(level=settings.log_level)
    redact_access_logs()

    @app.before_request
    def _connect() -> None:
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()

    api.register(app)
    app.register_blueprint(dashboard_bp)
    return app
