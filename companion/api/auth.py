"""Who may read a site: the Bearer API token of that site, and nobody else (others get 404)."""

from __future__ import annotations

from flask import request

from companion.api.errors import ApiError
from companion.models import Site
from companion.sites import find_site, is_token_for


def site_for_token(public_id: str) -> Site:
    """The site, if the request carries its token; 404 otherwise so ids cannot be probed."""
    site = find_site(public_id)
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    if site is None or not is_token_for(site, token):
        if site is None or token:
            raise ApiError(404, "No such site for this token.")
        raise ApiError(401, "Send the site's API token as 'Authorization: Bearer <token>'.")
    return site


def known_site(public_id: str) -> Site:
    site = find_site(public_id)
    if site is None:
        raise ApiError(404, "Unknown site id.")
    return site
