"""The dashboard's routes in the OpenAPI document: HTML pages, signed in by a session cookie."""

from __future__ import annotations

from typing import Any

SITE = {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}}
RANGE = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": text,
    }
    for name, text in (
        ("range", "7d, 30d, 90d, mtd, last_month, 365d or custom"),
        ("from", "first day (YYYY-MM-DD) when range=custom"),
        ("to", "last day (YYYY-MM-DD) when range=custom"),
        ("compare", "previous (default) or none"),
    )
]
HTML = {"description": "HTML page", "content": {"text/html": {}}}
SIGN_IN = {"description": "Not signed in: redirects to the sign-in form"}
NOT_YOURS = {"description": "Another site's page, or no such page"}
SESSION: list[dict[str, list[str]]] = [{"DashboardSession": []}]


def _form(description: str, **fields: dict[str, Any]) -> dict[str, Any]:
    """A form body: the session's CSRF token is required (without it: 400); other fields named
    here are optional, and fields the form does not know are ignored, as a browser's extra ones
    would be."""
    return {
        "required": True,
        "description": description,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["csrf_token"],
                    "properties": {
                        "csrf_token": {
                            "type": "string",
                            "description": "the session's CSRF token, as the page's form holds it",
                        },
                        **fields,
                    },
                }
            }
        },
    }


ON = {"type": "string", "description": "'on' when the box is ticked"}


def _page(summary: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": ["dashboard"],
        "security": SESSION,
        "parameters": [SITE, *extra, *RANGE],
        "responses": {"200": HTML, "302": SIGN_IN, "404": NOT_YOURS},
    }


def _required(body: dict[str, Any], *names: str) -> dict[str, Any]:
    """A form body whose fields `names` are required besides the CSRF token."""
    body["content"]["application/x-www-form-urlencoded"]["schema"]["required"] += list(names)
    return body


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


DASHBOARD_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/dashboard/",
        "get",
        {
            "summary": "Dashboard home: the signed-in site's overview, else the sign-in form",
            "tags": ["dashboard"],
            "responses": {"302": SIGN_IN},
        },
    ),
    (
        "/dashboard/login",
        "get",
        {
            "summary": "Sign-in form (site id and API token)",
            "tags": ["dashboard"],
            "responses": {"200": HTML},
        },
    ),
    (
        "/dashboard/login",
        "post",
        {
            "summary": "Sign in with the site's API token (form, CSRF token required)",
            "tags": ["dashboard"],
            "requestBody": _form(
                "The sign-in form; a wrong site id or token answers 401 with the form again",
                site_id={"type": "string"},
                api_token={"type": "string"},
                next={"type": "string", "description": "where to go after; never off site"},
            ),
            "responses": {"303": {"description": "Signed in"}, "400": HTML, "401": HTML},
        },
    ),
    (
        "/dashboard/login/{token}",
        "get",
        {
            "summary": "Sign in with a short-lived link from `companion dashboard-link`",
            "tags": ["dashboard"],
            "parameters": [_path("token")],
            "responses": {"302": {"description": "Signed in"}, "401": HTML},
        },
    ),
    (
        "/dashboard/logout",
        "post",
        {
            "summary": "Sign out (form, CSRF token required)",
            "tags": ["dashboard"],
            "requestBody": _form("The sign-out button's form"),
            "responses": {"303": {"description": "Signed out"}, "400": HTML},
        },
    ),
    (
        "/dashboard/logout/everywhere",
        "post",
        {
            "summary": "Sign out everywhere: every session of the signed-in site and its unused "
            "sign-in links end (form, CSRF token required)",
            "tags": ["dashboard"],
            "requestBody": _form("The sign-out button's form, sent by its second button"),
            "responses": {
                "303": {
                    "description": "Signed out everywhere: to the sign-in form, which says so; "
                    "without a live session, nothing else ends"
                },
                "400": HTML,
            },
        },
    ),
    (
        "/dashboard/{site_id}/",
        "get",
        _page("Overview: headline metrics, revenue, funnel, channels, alerts"),
    ),
    (
        "/dashboard/{site_id}/customers",
        "get",
        _page("Customers: stages, RFM segments, top and at-risk, cohorts"),
    ),
    (
        "/dashboard/{site_id}/products",
        "get",
        _page("Products: sellers, refund rates, stalled, pairs, forecast"),
    ),
    (
        "/dashboard/{site_id}/flows",
        "get",
        _page("Flows: per-flow figures, the outbox, on/off switches"),
    ),
    (
        "/dashboard/{site_id}/flows/{flow_key}",
        "post",
        {
            "summary": "Turn a flow on or off (form, CSRF token required)",
            "tags": ["dashboard"],
            "security": SESSION,
            "parameters": [SITE, _path("flow_key")],
            "requestBody": _form(
                "The flow's switch", enabled={"type": "string", "description": "'1' turns it on"}
            ),
            "responses": {
                "303": {"description": "Saved"},
                "400": HTML,
                "302": SIGN_IN,
                "404": NOT_YOURS,
            },
        },
    ),
    (
        "/dashboard/{site_id}/flows/{flow_key}/edit",
        "get",
        _page(
            "One flow's settings as a form, with an email's preview beside it (query parameter "
            "step)",
            _path("flow_key"),
        ),
    ),
    (
        "/dashboard/{site_id}/flows/{flow_key}/edit",
        "post",
        {
            "summary": "Save the flow's form (CSRF token required); checked as PUT "
            "/v1/sites/{id}/flows/{key} is",
            "tags": ["dashboard"],
            "security": SESSION,
            "parameters": [SITE, _path("flow_key")],
            "requestBody": _form(
                "The flow's form (fields as the edit page names them: enabled, from_email, "
                "steps.<n>.delay_hours, ...); empty text means the default",
                enabled=ON,
            ),
            "responses": {
                "303": {"description": "Saved"},
                "400": HTML,
                "422": {
                    "description": "The form with each field's message; nothing saved",
                    "content": {"text/html": {}},
                },
                "302": SIGN_IN,
                "404": NOT_YOURS,
            },
        },
    ),
    (
        "/dashboard/{site_id}/flows/{flow_key}/preview",
        "get",
        _page(
            "The flow's email (query parameter step) as saved, for a customer of the store: the "
            "form's preview frame",
            _path("flow_key"),
        ),
    ),
    (
        "/dashboard/{site_id}/flows/{flow_key}/preview",
        "post",
        {
            "summary": "The flow's form previewed without saving (CSRF token required)",
            "tags": ["dashboard"],
            "security": SESSION,
            "parameters": [SITE, _path("flow_key")],
            "requestBody": _form(
                "The flow's form (fields as the edit page names them: enabled, from_email, "
                "steps.<n>.delay_hours, ...); empty text means the default",
                enabled=ON,
            ),
            "responses": {
                "200": HTML,
                "400": HTML,
                "422": {"description": "The fields to fix", "content": {"text/html": {}}},
                "302": SIGN_IN,
                "404": NOT_YOURS,
            },
        },
    ),
    (
        "/dashboard/{site_id}/flows/{flow_key}/steps/{step}/keep",
        "post",
        {
            "summary": "End a step's subject A/B test keeping subject A or B (form field variant; "
            "CSRF token required)",
            "tags": ["dashboard"],
            "security": SESSION,
            "parameters": [SITE, _path("flow_key"), _path("step")],
            "requestBody": _required(
                _form("The subject to keep", variant={"type": "string", "enum": ["A", "B"]}),
                "variant",
            ),
            "responses": {
                "303": {"description": "Kept: back to the flow's page"},
                "400": HTML,
                "302": SIGN_IN,
                "404": NOT_YOURS,
            },
        },
    ),
    (
        "/dashboard/{site_id}/flows/{flow_key}/backlog",
        "post",
        {
            "summary": "Also mail who qualified before a scanned flow started, spread over the "
            "form's days (CSRF token required); POST /v1/sites/{id}/flows/{key}/backlog",
            "tags": ["dashboard"],
            "security": SESSION,
            "parameters": [SITE, _path("flow_key")],
            "requestBody": _required(
                _form(
                    "Over how many days (1 to 365)",
                    days={
                        "type": "string",
                        "pattern": "^0*([1-9][0-9]?|[12][0-9][0-9]|3[0-5][0-9]|36[0-5])$",
                    },
                ),
                "days",
            ),
            "responses": {
                "303": {"description": "Started: back to the flow's page"},
                "400": HTML,
                "409": {
                    "description": "The flow is off: switch it on first",
                    "content": {"text/html": {}},
                },
                "422": {"description": "The days to fix", "content": {"text/html": {}}},
                "302": SIGN_IN,
                "404": NOT_YOURS,
            },
        },
    ),
    (
        "/dashboard/{site_id}/contacts",
        "get",
        _page("Find customers by email or name (query parameter q)"),
    ),
    (
        "/dashboard/{site_id}/contacts/{contact_id}",
        "get",
        _page("One customer: timeline, scores, predictions", _path("contact_id")),
    ),
    (
        "/dashboard/{site_id}/export/{table_key}.csv",
        "get",
        {
            **_page("CSV of one dashboard table, the same rows the page shows", _path("table_key")),
            "responses": {
                "200": {"description": "CSV", "content": {"text/csv": {}}},
                "302": SIGN_IN,
                "404": NOT_YOURS,
            },
        },
    ),
]
