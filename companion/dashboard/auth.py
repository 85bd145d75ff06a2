"""Who may see a site's dashboard: a signed session cookie bound to that one site.

A session starts from a short-lived signed link (`companion dashboard-link`) or from the login
form with the site's API token. The cookie is Flask's signed session (HttpOnly, SameSite=Lax,
Secure behind https); every form carries a CSRF token kept in that session. A session for one
site sees 404 for every other site, so site ids cannot be probed.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any

from flask import abort, request, session

from companion.core import runtime
from companion.email import tokens
from companion.models import Site
from companion.sites import find_site, is_token_for

SESSION_HOURS = 12
LINK_TTL_S = 15 * 60


def cookie_settings(public_url: str) -> dict[str, Any]:
    return {"SESSION_COOKIE_NAME": "companion_dashboard", "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax", "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS)}


def _secret() -> bytes:
    return runtime.settings().secret_key.encode()


def login_link(site: Site, public_url: str, ttl: int = LINK_TTL_S) -> str:
    """The URL that signs the owner in to this site's dashboard, valid for `ttl` seconds."""
    return f"{public_url.rstrip('/')}/dashboard/login/{tokens.login_token(_secret(), site.public_id, ttl)}"


def site_for_link(token: str) -> Site | None:
    try:
        payload = tokens.read_token(_secret(), tokens.PURPOSE_LOGIN, token)
    except tokens.BadToken:
        return None
    return find_site(str(payload.get("s", "")))


def site_for_api_token(site_id: str, api_token: str) -> Site | None:
    site = find_site(site_id.strip())
    return site if site is not None and is_token_for(site, api_token.strip()) else None


def start_session(site: Site) -> None:
    """A fresh session for this site only (a new CSRF token, nothing carried over)."""
    session.clear()
    session.permanent = True
    session["site"] = site.public_id
    session["csrf"] = secrets.token_urlsafe(24)


def end_session() -> None:
    session.clear()


def signed_in_site() -> str | None:
    return session.get("site")


def require_site(site_id: str) -> Site | None:
    """The site of the session if it is `site_id`; None when nobody is signed in; 404 otherwise."""
    current = signed_in_site()
    if current is None:
        return None
    site = find_site(site_id) if current == site_id else None
    if site is None:
        abort(404)
    return site


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def check_csrf() -> None:
    """Every POST must echo the session's CSRF token (a form field or the X-CSRF-Token header)."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(str(expected), sent):
        abort(400, "The form expired or did not come from this dashboard; reload the page and try again.")
