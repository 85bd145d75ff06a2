"""HTTP API: one blueprint per area, registered by the app factory."""

from __future__ import annotations

from flask import Flask

from companion.api import contacts, events, flows, health, metrics, openapi, tracking, woocommerce
from companion.api import flow_backlog as flow_backlog_api
from companion.api import intelligence as intelligence_api
from companion.api import links as links_api
from companion.api import privacy as privacy_api
from companion.api.errors import register_error_handlers

BLUEPRINTS = [
    events.bp,
    contacts.bp,
    links_api.bp,
    health.bp,
    openapi.bp,
    flows.bp,
    tracking.bp,
    metrics.bp,
    woocommerce.bp,
    intelligence_api.bp,
    privacy_api.bp,
    flow_backlog_api.bp,
]


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
