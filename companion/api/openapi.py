"""GET /openapi.json, generated from the marshmallow schemas of each route."""

from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify

from companion.api import flow_backlog
from companion.api import links as links_api
from companion.api import woocommerce as woocommerce_api
from companion.api.schemas import contacts as contact_schemas
from companion.api.schemas import flows as flow_schemas
from companion.api.schemas import intelligence as intelligence_schemas
from companion.api.schemas import metrics as metric_schemas
from companion.api.schemas import privacy as privacy_schemas
from companion.dashboard.routes_doc import DASHBOARD_ROUTES
from companion.schemas import events as event_schemas

bp = Blueprint("openapi", __name__)

ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
SIGNED = [{"StandardWebhooks": []}]
BEARER = [{"ApiToken": []}]


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SITE = {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}}

# (path, method, operation). Feature blueprints append their routes to this table.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/v1/sites/{site_id}/events",
        "post",
        {
            "summary": "Receive a signed batch of store events (Standard Webhooks signature)",
            "security": SIGNED,
            "parameters": [SITE],
            "requestBody": {"content": {"application/json": {"schema": _ref("EventBatch")}}},
            "responses": {
                "202": _json(_ref("BatchAnswer"), "Stored; applied in the background"),
                "200": _json(_ref("BatchAnswer"), "An empty batch: the plugin's connection test"),
                "400": ERROR,
                "401": ERROR,
                "404": ERROR,
                "413": ERROR,
                "422": ERROR,
            },
        },
    ),
    (
        "/v1/sites/{site_id}/contacts",
        "get",
        {
            "summary": "Customer profiles, newest buyers first",
            "security": BEARER,
            "parameters": [SITE, {"in": "query", "schema": contact_schemas.ContactsQuerySchema}],
            "responses": {
                "200": _json(_ref("ContactPage")),
                "401": ERROR,
                "404": ERROR,
                "422": ERROR,
            },
        },
    ),
    (
        "/v1/sites/{site_id}/contacts/{contact_id}",
        "get",
        {
            "summary": "One profile; contact_id may be the email",
            "security": BEARER,
            "parameters": [
                SITE,
                {
                    "name": "contact_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
            "responses": {"200": _json(_ref("ContactProfile")), "401": ERROR, "404": ERROR},
        },
    ),
    (
        "/healthz",
        "get",
        {
            "summary": "Database, Redis, worker and scheduler heartbeats, queue depth",
            "responses": {"200": _json({"type": "object"}), "503": _json({"type": "object"})},
        },
    ),
    *flow_schemas.ROUTES,
    *metric_schemas.ROUTES,
    *DASHBOARD_ROUTES,
    *intelligence_schemas.ROUTES,
    *woocommerce_api.ROUTES,
    *links_api.ROUTES,
    *privacy_schemas.ROUTES,
    *flow_backlog.ROUTES,
]

SCHEMAS: dict[str, Any] = {
    "Event": event_schemas.EventSchema,
    "Contact": event_schemas.ContactSchema,
    "OrderData": event_schemas.OrderDataSchema,
    "RefundData": event_schemas.RefundDataSchema,
    "CartData": event_schemas.CartDataSchema,
    "ProductViewedData": event_schemas.ProductViewedDataSchema,
    "PageViewedData": event_schemas.PageViewedDataSchema,
    "ProductData": event_schemas.ProductDataSchema,
    "SubscriptionData": event_schemas.SubscriptionDataSchema,
    "ConsentData": event_schemas.ConsentDataSchema,
    "ContactsQuery": contact_schemas.ContactsQuerySchema,
    "ContactPage": contact_schemas.ContactPageSchema,
    "ContactProfile": contact_schemas.ContactProfileSchema,
    **intelligence_schemas.SCHEMAS,
    **flow_schemas.SCHEMAS,
    **metric_schemas.SCHEMAS,
    **privacy_schemas.SCHEMAS,
    **flow_backlog.SCHEMAS,
}


def build_spec() -> dict[str, Any]:
    try:
        api_version = version("sales-companion")
    except PackageNotFoundError:
        api_version = "0"
    spec = APISpec(
        title="Sales Companion",
        version=api_version,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
    )
    spec.components.security_scheme("ApiToken", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme(
        "DashboardSession", {"type": "apiKey", "in": "cookie", "name": "companion_dashboard"}
    )
    spec.components.security_scheme(
        "StandardWebhooks", {"type": "apiKey", "in": "header", "name": "webhook-signature"}
    )
    spec.components.schema(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "fields": {"type": "object"}},
        },
    )
    spec.components.schema(
        "EventBatch",
        {
            "type": "object",
            "required": ["events"],
            "properties": {"events": {"type": "array", "maxItems": 500, "items": _ref("Event")}},
        },
    )
    spec.components.schema(
        "BatchAnswer",
        {
            "type": "object",
            "properties": {
                "accepted": {"type": "integer"},
                "duplicates": {"type": "integer"},
                "rejected": {"type": "array", "items": {"type": "object"}},
                "connected": {"type": "boolean"},
            },
        },
    )
    for name, schema in SCHEMAS.items():
        if name not in spec.components.schemas:  # nested ones were registered with their parent
            spec.components.schema(name, schema=schema)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, operation in copy.deepcopy(ROUTES):  # apispec edits what it is given
        paths.setdefault(path, {})[method] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(build_spec())
