"""GET /openapi.json, generated from the marshmallow schemas of each route."""

from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify
from marshmallow import fields, validate

from companion.api import flow_backlog
from companion.api import links as links_api
from companion.api import woocommerce as woocommerce_api
from companion.api.schemas import contacts as contact_schemas
from companion.api.schemas import flows as flow_schemas
from companion.api.schemas import intelligence as intelligence_schemas
from companion.api.schemas import metrics as metric_schemas
from companion.api.schemas import privacy as privacy_schemas
from companion.dashboard.routes_doc import DASHBOARD_ROUTES
from companion.flows.definitions import FLOWS
from companion.flows.settings_schema import ProductId
from companion.schemas import events as event_schemas
from companion.schemas.fields import ExternalId, Money, WebUrl
from companion.schemas.fields import Timestamp as TimestampField

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
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("EventBatch")}},
            },
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
    "OrderDeletedData": event_schemas.OrderDeletedDataSchema,
    "RefundData": event_schemas.RefundDataSchema,
    "RefundDeletedData": event_schemas.RefundDeletedDataSchema,
    "RefundsListedData": event_schemas.RefundsListedDataSchema,
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


# What the code refuses beyond a field's type, said in the document so that every value it calls
# valid is taken (schemathesis's positive_data_acceptance check holds us to it).
YEARS = "^(19[7-9][0-9]|2[01][0-9][0-9]|2200)-"  # Timestamp and Day: years 1970 to 2200
MONEY = r"^\s*[0-9]{1,14}(\.[0-9]{1,4})?\s*$"  # companion/schemas/fields.py _DECIMAL
SIGNED_MONEY = r"^\s*-?[0-9]{1,14}(\.[0-9]{1,4})?\s*$"
# marshmallow's URL validator (http/https, a name with a TLD, no user part), not RFC 3986's
WEB_URL = (
    r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(:[0-9]{1,5})?"
    r"(/|[/?]\S+)?$"
)


def _field_properties(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: the project's own fields and the bounds marshmallow's plain
    mapping leaves out."""
    if isinstance(field, (TimestampField, fields.Date)):
        return {"pattern": YEARS}
    if isinstance(field, Money):
        amount = SIGNED_MONEY if field.allow_negative else MONEY
        return {
            "oneOf": [
                {"type": "string", "pattern": amount},
                {
                    "type": "integer",
                    "minimum": -99_999_999_999_999 if field.allow_negative else 0,
                    "maximum": 99_999_999_999_999,
                },
            ],
            "description": 'A decimal string such as "19.90" (an integer is taken too).',
        }
    if isinstance(field, fields.Boolean):
        # marshmallow's Boolean also takes its truthy and falsy words and 0/1
        ret.pop("type", None)
        words = sorted(str(v) for v in (field.truthy | field.falsy) if isinstance(v, str))
        return {
            "oneOf": [
                {"type": "boolean"},
                {"type": "string", "enum": words},
                {"type": "integer", "enum": [0, 1]},
            ]
        }
    if isinstance(field, ExternalId):  # trimmed, then 1 to 64 characters
        return {
            "oneOf": [
                {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"\S"},
                {"type": "integer"},
            ]
        }
    if isinstance(field, ProductId):
        ret.pop("type", None)
        return {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 64}, {"type": "integer"}]}
    if isinstance(field, WebUrl):
        return {
            "maxLength": 2000,
            "description": "An http(s) address; anything else is dropped (stored as null).",
        }
    if isinstance(field, fields.Url):
        ret.pop("format", None)
        return {"pattern": WEB_URL}
    if isinstance(field, fields.Dict) and field.key_field is not None:
        keys = [v for v in field.key_field.validators if isinstance(v, validate.OneOf)]
        if keys:
            values = ret.get("additionalProperties", {})
            return {
                "properties": {key: values for key in keys[0].choices},
                "additionalProperties": False,
            }
    return {}


def _nullable_refs(node: Any) -> Any:
    """apispec writes a nullable nested schema as anyOf [any object, the schema], which lets any
    object through; it is the schema or null."""
    if isinstance(node, list):
        return [_nullable_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    branches = node.get("anyOf")
    if (
        isinstance(branches, list)
        and len(branches) == 2
        and branches[0] == {"type": "object", "nullable": True}
        and "$ref" in branches[1]
    ):
        return {"$ref": branches[1]["$ref"], "nullable": True}
    return {key: _nullable_refs(value) for key, value in node.items()}


DATA_REFS = {
    "order.updated": "OrderData",
    "order.refunded": "RefundData",
    "order.deleted": "OrderDeletedData",
    "order.refund_deleted": "RefundDeletedData",
    "order.refunds_listed": "RefundsListedData",
    "cart.updated": "CartData",
    "product.viewed": "ProductViewedData",
    "page.viewed": "PageViewedData",
    "product.updated": "ProductData",
    "customer.updated": None,
    "subscription.updated": "SubscriptionData",
    "consent.updated": "ConsentData",
}


def _events_by_type(schemas: dict[str, Any]) -> None:
    """An event's data is the schema of its type: one branch per type (oneOf on `type`)."""
    envelope = schemas.pop("Event")
    branches = []
    for kind, data in DATA_REFS.items():
        name = "Event_" + kind.replace(".", "_")
        event = copy.deepcopy(envelope)
        event["properties"]["type"] = {"type": "string", "enum": [kind]}
        if data is None:  # customer.updated: everything is in the contact, which names an email
            event["properties"]["data"] = {"type": "object"}
            event["properties"]["contact"] = _ref("ContactWithEmail")
            event["required"] = sorted({*event["required"], "contact"})
        else:
            event["properties"]["data"] = _ref(data)
            event["required"] = sorted({*event["required"], "data"})
        schemas[name] = event
        branches.append(_ref(name))
    schemas["Event"] = {
        "oneOf": branches,
        "discriminator": {
            "propertyName": "type",
            "mapping": {
                kind: f"#/components/schemas/Event_{kind.replace('.', '_')}" for kind in DATA_REFS
            },
        },
    }
    contact = copy.deepcopy(schemas["Contact"])
    contact["properties"]["email"] = {
        k: v for k, v in contact["properties"]["email"].items() if k != "nullable"
    }
    contact["required"] = ["email"]
    schemas["ContactWithEmail"] = contact


def _steps_per_flow(schemas: dict[str, Any]) -> None:
    """PUT /flows names each flow, so each gets its own step numbers (1 to its number of steps)."""
    flows = schemas["FlowsUpdate"]["properties"]["flows"]
    for key, flow in FLOWS.items():
        step = copy.deepcopy(schemas["StepSettings"])
        step["properties"]["step"]["maximum"] = len(flow.delays_hours)
        settings = copy.deepcopy(schemas["FlowSettings"])
        settings["properties"]["steps"]["items"] = _ref(f"StepSettings_{key}")
        schemas[f"StepSettings_{key}"], schemas[f"FlowSettings_{key}"] = step, settings
        flows["properties"][key] = _ref(f"FlowSettings_{key}")


def _coupon_kinds(schemas: dict[str, Any]) -> None:
    """A coupon is one of two shapes (flows/settings_schema.CouponSchema): a `static` code (the
    default kind), which needs its code, or a `unique` template, which needs its discount."""
    coupon = schemas.pop("Coupon")
    static, unique = copy.deepcopy(coupon), copy.deepcopy(coupon)
    static["properties"]["kind"] = {"type": "string", "enum": ["static"]}
    static["properties"]["code"] = {
        k: v for k, v in static["properties"]["code"].items() if k != "nullable"
    }
    static["required"] = ["code"]
    unique["properties"]["kind"] = {"type": "string", "enum": ["unique"]}
    unique["properties"]["amount"]["description"] = (
        "More than 0; at most 100 when discount_type is percent. A decimal string such as "
        '"10" (an integer is taken too).'
    )
    unique["required"] = ["kind", "discount_type", "amount", "days_valid"]
    schemas["Coupon_static"], schemas["Coupon_unique"] = static, unique
    schemas["Coupon"] = {"oneOf": [_ref("Coupon_static"), _ref("Coupon_unique")]}


def build_spec() -> dict[str, Any]:
    try:
        api_version = version("sales-companion")
    except PackageNotFoundError:
        api_version = "0"
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="Sales Companion",
        version=api_version,
        openapi_version="3.0.3",
        plugins=[marshmallow],
    )
    assert marshmallow.converter is not None
    marshmallow.converter.add_attribute_function(_field_properties)
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
    document = _nullable_refs(spec.to_dict())
    _events_by_type(document["components"]["schemas"])
    _steps_per_flow(document["components"]["schemas"])
    _coupon_kinds(document["components"]["schemas"])
    return document


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(build_spec())
