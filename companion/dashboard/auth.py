"""Who may see a site's dashboard: a signed session cookie bound to that one site.

A session starts from a short-lived signed link (`companion dashboard-link`, each link works
once) or from the login form with the site's API token. The cookie is Flask's signed session
(HttpOnly, SameSite=Lax, Secure behind https) holding a random session token whose hash is kept in
`dashboard_session`: signing out ends it server side, so a copied cookie stops working too.
Signing out everywhere moves the site to its next session generation: every session and unused
sign-in link of an older one is over, and checking that costs no query (the one that finds the
session compares the two generations). Every form carries a CSRF token kept in that session. A
session for one site sees 404 for every other site, so site ids cannot be probed. The dashboard is
a request edge: it reads the clock here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import abort, request, session
from peewee import IntegrityError

from companion.core import runtime
from companion.core.db import database
from companion.email import tokens
from companion.models import DashboardSession, Site, utcnow
from companion.sites import find_site, is_token_for

SESSION_HOURS = 12
LINK_TTL_S = 15 * 60


def cookie_settings(public_url: str) -> dict[str, Any]:
    return {
        "SESSION_COOKIE_NAME": "companion_dashboard",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
    }


def _secret() -> bytes:
    return runtime.settings().secret_key.encode()


def login_link(site: Site, public_url: str, ttl: int = LINK_TTL_S) -> str:
    """The URL that signs the owner in to this site's dashboard, valid for `ttl` seconds."""
    token = tokens.login_token(_secret(), site.public_id, ttl, generation=site.session_generation)
    return f"{public_url.rstrip('/')}/dashboard/login/{token}"


def site_for_link(token: str) -> Site | None:
    """The site of a valid link issued since its owner last signed out everywhere."""
    try:
        payload = tokens.read_token(_secret(), tokens.PURPOSE_LOGIN, token)
    except tokens.BadToken:
        return None
    site = find_site(str(payload.get("s", "")))
    # Links from before generations carry none: they belong to the first.
    return site if site is not None and payload.get("g", 0) == site.session_generation else None


def site_for_api_token(site_id: str, api_token: str) -> Site | None:
    site = find_site(site_id.strip())
    return site if site is not None and is_token_for(site, api_token.strip()) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(site: Site, link: str | None = None) -> bool:
    """A fresh session for this site only (a new CSRF token, nothing carried over); False when
    the sign-in link was used before."""
    token = secrets.token_urlsafe(32)
    try:
        with database.atomic():
            DashboardSession.create(
                site=site.id,
                token_hash=_digest(token),
                started_at=utcnow(),
                link_hash=_digest(link) if link else None,
                # As read with the credential: signing out everywhere meanwhile ends it too.
                generation=site.session_generation,
            )
    except IntegrityError:
        return False
    session.clear()
    session.permanent = True
    session.update(site=site.public_id, sid=token, csrf=secrets.token_urlsafe(24))
    return True


def end_session() -> None:
    """Sign out: the session ends on the server too, wherever its cookie was copied."""
    if session.get("sid"):
        DashboardSession.update(ended_at=utcnow()).where(
            DashboardSession.token_hash == _digest(str(session["sid"])),
            DashboardSession.ended_at.is_null(),
        ).execute()
    session.clear()


def end_every_session(site: Site, now: datetime) -> int:
    """Sign out everywhere: every session of the site ends, wherever its cookie is, and so does
    every sign-in link not used yet (the next generation refuses them); the number of sessions
    that were live."""
    with database.atomic():
        Site.update(session_generation=Site.session_generation + 1).where(
            Site.id == site.id
        ).execute()
        return int(
            DashboardSession.update(ended_at=now)
            .where(DashboardSession.site == site.id, DashboardSession.ended_at.is_null())
            .where(DashboardSession.started_at > now - timedelta(hours=SESSION_HOURS))
            .execute()
        )


def signed_in_site() -> str | None:
    """The site of a live session: started less than SESSION_HOURS ago, not signed out, and of
    the site's current session generation."""
    site_id, token = session.get("site"), session.get("sid")
    if not site_id or not token:
        return None
    live = (
        DashboardSession.select(DashboardSession.id)
        .join(Site)
        .where(
            DashboardSession.token_hash == _digest(str(token)),
            Site.public_id == site_id,
            DashboardSession.ended_at.is_null(),
            DashboardSession.started_at > utcnow() - timedelta(hours=SESSION_HOURS),
            DashboardSession.generation == Site.session_generation,
        )
        .exists()
    )
    return str(site_id) if live else None


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
        abort(
            400,
            "The form expired or did not come from this dashboard; reload the page and try again.",
        )
