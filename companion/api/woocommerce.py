"""POST /v1/sites/<id>/woocommerce: WooCommerce's own webhooks, for stores without the plugin.

The ping WooCommerce sends when a webhook is saved answers 200 and stores nothing. Anything else
must carry X-WC-Webhook-Signature over the exact raw body with the site's WooCommerce secret; the
body is mapped to the events of DESIGN 3.1 and takes the same path as the plugin's batches.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from companion.api.auth import known_site
from companion.api.errors import NESTED_TOO_DEEPLY, ApiError
from companion.core import runtime
from companion.ingest import receive
from companion.models import Site
from companion.woocommerce.mapping import (
    customer_to_event,
    deleted_order_event,
    is_ping,
    order_to_events,
    product_to_event,
    verify_wc_signature,
)
from jobs.events import accept_events

bp = Blueprint("woocommerce", __name__)

ORDER_SNAPSHOT_TOPICS = ("order.created", "order.updated", "order.restored")

_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_HEADERS = [
    {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}},
    {
        "name": "X-WC-Webhook-Signature",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "base64 HMAC-SHA256 of the raw body with the secret set by `companion sites "
        "set-woo-secret`; "
        "required on everything but the ping",
    },
    {
        "name": "X-WC-Webhook-Topic",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "order.created, order.updated, order.restored, order.deleted, product.*, "
        "customer.*",
    },
]
# The OpenAPI entry, listed in companion.api.openapi.ROUTES.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/v1/sites/{site_id}/woocommerce",
        "post",
        {
            "summary": "Receive a WooCommerce webhook (REST v3 order, product or customer; signed "
            "with X-WC-Webhook-Signature)",
            "description": "Orders become order.updated plus one order.refunded per refund, as the "
            "plugin sends them. "
            "The unsigned ping (form body webhook_id=N) answers 200 and stores nothing; topics "
            "without "
            "data to keep (product.deleted, customer.deleted, coupon.*) answer 200 and store "
            "nothing.",
            "parameters": _HEADERS,
            "requestBody": {
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                }
            },
            "responses": {
                "202": {
                    "description": "Stored; applied in the background",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/BatchAnswer"}}
                    },
                },
                "200": {
                    "description": "Ping or ignored topic; nothing stored",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": _ERROR,
                "401": _ERROR,
                "404": _ERROR,
                "413": _ERROR,
                "422": _ERROR,
            },
        },
    ),
]


@bp.post("/v1/sites/<site_id>/woocommerce")
def receive_woocommerce(site_id: str) -> Any:
    site = known_site(site_id)
    body = _read_body()
    if is_ping(request.headers.get("Content-Type"), body):
        return jsonify({"ping": "ok", "stored": 0}), 200
    _check_signature(site, body)
    topic = (request.headers.get("X-WC-Webhook-Topic") or "").strip().lower()
    events = _map(site, topic, body)
    if events is None:
        return jsonify({"ignored": topic, "stored": 0}), 200
    result = accept_events(site, events)
    if not result.accepted and not result.duplicates:
        return jsonify({"error": "Nothing in this delivery was valid.", **result.as_answer()}), 422
    current_app.logger.debug("site %s, %s: %s", site.public_id, topic, result.as_answer())
    return jsonify(result.as_answer()), 202


def events_for_topic(topic: str, resource: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The events for one WooCommerce delivery; None for topics that carry nothing we keep
    (product.deleted, customer.deleted, coupons, actions). Raises ValueError when unmappable."""
    kind, _, action = topic.partition(".")
    if topic in ORDER_SNAPSHOT_TOPICS:
        return order_to_events(resource)
    if topic == "order.deleted":
        return [deleted_order_event(_resource_id(resource))]
    if kind == "product" and action != "deleted":
        return [product_to_event(resource)]
    if kind == "customer" and action != "deleted":
        return [customer_to_event(resource)]
    return None


def _map(site: Site, topic: str, body: bytes) -> list[dict[str, Any]] | None:
    """Events for a verified delivery; what cannot be read is kept as a dead letter and is a 4xx."""
    if not topic:
        receive.store_unreadable(site, body, "WooCommerce webhook without X-WC-Webhook-Topic.")
        raise ApiError(
            400, "Missing X-WC-Webhook-Topic header (WooCommerce sends it with every delivery)."
        )
    resource = _parse(site, body)
    try:
        return events_for_topic(topic, resource)
    except (
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
    ) as exc:  # a malformed body, not our bug
        receive.store_unreadable(site, body, f"{topic}: {exc}")
        raise ApiError(422, f"Could not read this {topic} delivery: {exc}") from None


def _read_body() -> bytes:
    limit = runtime.settings().max_body_bytes
    if (request.content_length or 0) > limit:
        raise ApiError(413, "Request body too large (at most 5 MB).")
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise ApiError(413, "Request body too large (at most 5 MB).")
    return body


def _check_signature(site: Site, body: bytes) -> None:
    if not site.woo_secret:
        raise ApiError(
            401,
            "This site has no WooCommerce webhook secret yet. Set the secret you entered in "
            "WooCommerce > Settings > Advanced > Webhooks with: companion sites set-woo-secret "
            f"--site {site.public_id} --secret <secret>",
        )
    signature = request.headers.get("X-WC-Webhook-Signature")
    if not signature:
        raise ApiError(401, "Missing X-WC-Webhook-Signature header.")
    if not verify_wc_signature(site.woo_secret, body, signature):
        raise ApiError(
            401,
            "X-WC-Webhook-Signature does not match the body; check that the webhook's "
            "secret in WooCommerce is the one set with `companion sites set-woo-secret`.",
        )


def _parse(site: Site, body: bytes) -> dict[str, Any]:
    try:
        resource = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        receive.store_unreadable(site, body, "WooCommerce webhook body is not JSON.")
        raise ApiError(
            400, "Body is not JSON; WooCommerce sends the REST v3 resource as JSON."
        ) from None
    except RecursionError:
        receive.store_unreadable(site, body, NESTED_TOO_DEEPLY)
        raise ApiError(400, NESTED_TOO_DEEPLY) from None
    if not isinstance(resource, dict):
        receive.store_unreadable(site, body, "WooCommerce webhook body is not a JSON object.")
        raise ApiError(422, "Body is not a JSON object (a WooCommerce REST v3 resource).")
    return resource


def _resource_id(resource: dict[str, Any]) -> int | str:
    value = resource.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or value in ("", 0):
        raise ValueError("order.deleted body has no order id")
    return value
