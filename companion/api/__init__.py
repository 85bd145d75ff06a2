"""HTTP API: one blueprint per area, registered by the app factory."""
from __future__ import annotations

from flask import Flask

from companion.api import contacts, events, health, openapi
from companion.api.errors import register_error_handlers

BLUEPRINTS = [events.bp, contacts.bp, health.bp, openapi.bp]


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
