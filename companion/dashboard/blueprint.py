"""The dashboard blueprint, its cookie settings and the headers every dashboard answer carries."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template
from werkzeug.routing import BaseConverter

from companion.core import runtime
from companion.dashboard import auth

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # login links carry a token; never leak a dashboard URL
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class SiteIdConverter(BaseConverter):
    """A site id in a dashboard path: any path segment but the dashboard's own words, so
    `GET /dashboard/logout` is the 405 of the POST-only sign-out, not a redirect to the overview
    of a site called "logout" (`/dashboard/<site_id>/`, whose trailing slash werkzeug adds)."""

    regex = r"(?!(?:login|logout)(?:/|$))[^/]+"


@bp.record_once
def _configure(state: Any) -> None:
    state.app.config.update(auth.cookie_settings(runtime.settings().public_url))
    state.app.url_map.converters["site_id"] = SiteIdConverter


@bp.after_request
def _headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.app_template_global()
def csrf_token() -> str:
    return auth.csrf_token()


@bp.errorhandler(404)
def _not_found(exc: Any) -> Any:
    return render_template(
        "dashboard/error.html",
        title="Not found",
        message="There is no such page, or it belongs to a store you are not signed in to.",
    ), 404


@bp.errorhandler(400)
def _bad_request(exc: Any) -> Any:
    return render_template(
        "dashboard/error.html",
        title="Something was off with that request",
        message=getattr(exc, "description", "Bad request."),
    ), 400
