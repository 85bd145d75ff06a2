"""POST /v1/sites/<id>/dashboard-link: a short-lived sign-in link for the site's dashboard, so the
WordPress plugin can open the dashboard without the API token ever reaching a browser."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from companion.api.auth import site_for_token
from companion.core import runtime
from companion.dashboard.auth import LINK_TTL_S, login_link

bp = Blueprint("links", __name__)

ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/v1/sites/{site_id}/dashboard-link",
        "post",
        {
            "summary": "A sign-in link to the site's dashboard, valid for 15 minutes",
            "security": [{"ApiToken": []}],
            "parameters": [
                {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "The link",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "url": {"type": "string"},
                                    "expires_in": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                "401": {"description": "No token"},
                "404": {"description": "Unknown site or another site's token"},
            },
        },
    ),
]


@bp.post("/v1/sites/<site_id>/dashboard-link")
def dashboard_link(site_id: str) -> Any:
    site = site_for_token(site_id)
    return jsonify(
        {"url": login_link(site, runtime.settings().public_url), "expires_in": LINK_TTL_S}
    )
