"""A scanned flow's backlog: GET how many people qualified before it started, POST to send to
them too, spread over days (flows/backlog.py): /v1/sites/<id>/flows/<key>/backlog."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from marshmallow import Schema, fields, validate

from companion.api.auth import site_for_token
from companion.api.errors import ApiError, json_body
from companion.api.schemas.flows import load_json_object
from companion.flows import backlog
from companion.flows.config import Configs
from companion.models import utcnow

bp = Blueprint("flow_backlog", __name__)


class BacklogSchema(Schema):
    flow = fields.String()
    waiting = fields.Integer()
    default_per_day = fields.Integer()


class ReleaseSchema(Schema):
    per_day = fields.Integer(
        strict=True,
        load_default=backlog.DEFAULT_PER_DAY,
        validate=validate.Range(min=1, max=10_000),
    )


class ReleasedSchema(Schema):
    flow = fields.String()
    started = fields.Integer()
    per_day = fields.Integer()
    days = fields.Integer()


backlog_schema, release_schema, released_schema = BacklogSchema(), ReleaseSchema(), ReleasedSchema()


def _scanned_flow(key: str) -> str:
    if key not in backlog.SCANNED_FLOWS:
        raise ApiError(404, "Only scanned flows have a backlog.", flows=list(backlog.SCANNED_FLOWS))
    return key


@bp.get("/v1/sites/<site_id>/flows/<key>/backlog")
def get_backlog(site_id: str, key: str) -> Any:
    site = site_for_token(site_id)
    return jsonify(backlog_schema.dump(backlog.backlog(site.id, _scanned_flow(key))))


@bp.post("/v1/sites/<site_id>/flows/<key>/backlog")
def release_backlog(site_id: str, key: str) -> Any:
    site = site_for_token(site_id)
    flow = Configs().flow(site, _scanned_flow(key))
    if not flow.enabled:
        raise ApiError(409, "Switch the flow on first.")
    args = release_schema.load(load_json_object(json_body()))
    return jsonify(
        released_schema.dump(backlog.release(site.id, flow, args["per_day"], utcnow()))
    ), 202


def _op(summary: str, answer: str, body: str | None = None) -> dict[str, Any]:
    path = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
        for n in ("site_id", "key")
    ]
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    ok = {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{answer}"}}},
    }
    operation: dict[str, Any] = {
        "summary": summary,
        "security": [{"ApiToken": []}],
        "parameters": path,
        "responses": {
            "202" if body else "200": ok,
            "401": error,
            "404": error,
            **({"409": error, "422": error} if body else {}),
        },
    }
    if body:
        operation["requestBody"] = {
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}
        }
    return operation


ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/v1/sites/{site_id}/flows/{key}/backlog",
        "get",
        _op(
            "How many people qualified for a scanned flow (win_back, vip, replenishment) before it "
            "started",
            "Backlog",
        ),
    ),
    (
        "/v1/sites/{site_id}/flows/{key}/backlog",
        "post",
        _op(
            "Also send to them: their mails start now, per_day a day, evenly spaced",
            "BacklogReleased",
            body="BacklogRelease",
        ),
    ),
]
SCHEMAS: dict[str, Any] = {
    "Backlog": BacklogSchema,
    "BacklogRelease": ReleaseSchema,
    "BacklogReleased": ReleasedSchema,
}
