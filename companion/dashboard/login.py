"""Signing in and out: a short-lived link, or the site id with its API token; then a session."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from flask import redirect, render_template, request, url_for

from companion.dashboard import auth
from companion.dashboard.blueprint import bp
from companion.models import utcnow
from companion.sites import find_site


def _home(site_id: str) -> str:
    return url_for("dashboard.overview", site_id=site_id)


def _safe_next(target: str | None, site_id: str) -> str:
    """Only go back to a page of this dashboard, never to another host."""
    if target and target.startswith(f"/dashboard/{site_id}/") and not urlparse(target).netloc:
        return target
    return _home(site_id)


@bp.get("/")
def index() -> Any:
    site_id = auth.signed_in_site()
    return redirect(_home(site_id) if site_id else url_for("dashboard.login_form"))


@bp.get("/login")
def login_form() -> Any:
    return render_template(
        "dashboard/login.html",
        next=request.args.get("next", ""),
        error=None,
        ended_everywhere=request.args.get("ended") == "everywhere",
    )


@bp.post("/login")
def login() -> Any:
    auth.check_csrf()
    site = auth.site_for_api_token(
        request.form.get("site_id", ""), request.form.get("api_token", "")
    )
    if site is None:
        error = (
            "That site id and API token do not match. Copy both from `companion sites add` or ask "
            "for a new link."
        )
        return render_template(
            "dashboard/login.html", next=request.form.get("next", ""), error=error
        ), 401
    auth.start_session(site)
    return redirect(_safe_next(request.form.get("next"), site.public_id), code=303)


@bp.get("/login/<token>")
def login_link(token: str) -> Any:
    site = auth.site_for_link(token)
    if site is None:
        error = (
            "This sign-in link has expired or is not valid. Run `companion dashboard-link --site "
            "ID` for a new one."
        )
        return render_template("dashboard/login.html", next="", error=error), 401
    if not auth.start_session(site, link=token):
        error = (
            "This sign-in link was used already: each link works once. Sign in with the site id "
            "and API "
            "token below, or run `companion dashboard-link --site ID` for a new link."
        )
        return render_template("dashboard/login.html", next="", error=error), 401
    # The WordPress plugin's report links land on the page and period the owner was looking at.
    return redirect(_safe_next(request.args.get("next"), site.public_id))


@bp.post("/logout")
def logout() -> Any:
    auth.check_csrf()
    auth.end_session()
    return redirect(url_for("dashboard.login_form"), code=303)


@bp.post("/logout/everywhere")
def logout_everywhere() -> Any:
    """Every session of the signed-in site ends, this one too; a session that is over already
    (a copied cookie after a sign-out) cannot end the owner's new ones."""
    auth.check_csrf()
    site = find_site(auth.signed_in_site() or "")
    if site is None:
        auth.end_session()
        return redirect(url_for("dashboard.login_form"), code=303)
    auth.end_every_session(site, utcnow())
    auth.end_session()
    return redirect(url_for("dashboard.login_form", ended="everywhere"), code=303)
