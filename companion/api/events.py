"""POST /v1/sites/<id>/events: verify the signature, store, enqueue, answer 202."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from companion.api.auth import known_site
from companion.api.errors import NESTED_TOO_DEEPLY, ApiError
from companion.core import runtime
from companion.core.signing import SignatureError, verify
from companion.ingest import receive
from jobs.events import accept_events

bp = Blueprint("events", __name__)


def read_signed_body(secret: str) -> bytes:
    settings = runtime.settings()
    if (request.content_length or 0) > settings.max_body_bytes:
        raise ApiError(413, "Request body too large (at most 5 MB).")
    body = request.get_data(cache=True)
    if len(body) > settings.max_body_bytes:
        raise ApiError(413, "Request body too large (at most 5 MB).")
    headers = {
        k: request.headers.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    try:
        verify(secret, headers, body, settings.signature_tolerance_s)
    except SignatureError as exc:
        raise ApiError(401, str(exc)) from None
    return body


def parse_batch(site: Any, body: bytes) -> list[Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        receive.store_unreadable(site, body, "Body is not JSON.")
        raise ApiError(400, 'Body is not JSON; send {"events": [...]}.') from None
    except RecursionError:
        receive.store_unreadable(site, body, NESTED_TOO_DEEPLY)
        raise ApiError(400, NESTED_TOO_DEEPLY) from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        receive.store_unreadable(site, body, "No events list.")
        raise ApiError(
            422,
            'Send {"events": [...]} with at least one event.',
            fields={"events": ["Missing or not a list."]},
        )
    if len(events) > runtime.settings().max_batch_events:
        raise ApiError(
            413, f"At most {runtime.settings().max_batch_events} events per batch; split it."
        )
    return events


@bp.post("/v1/sites/<site_id>/events")
def receive_events(site_id: str) -> Any:
    site = known_site(site_id)
    body = read_signed_body(site.secret)
    events = parse_batch(site, body)
    if not events:  # a signed empty batch is the plugin's "Test connection": nothing to store
        return jsonify({"accepted": 0, "duplicates": 0, "rejected": [], "connected": True}), 200
    result = accept_events(site, events)
    if not result.accepted and not result.duplicates:
        return jsonify({"error": "No event in the batch was valid.", **result.as_answer()}), 422
    current_app.logger.debug("site %s: %s", site.public_id, result.as_answer())
    return jsonify(result.as_answer()), 202
