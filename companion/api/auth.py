"""Who may read a site: the Bearer API token of that site, and nobody else.

Anything but the site's own token (none, a wrong one, another site's) answers the same 401 with
`WWW-Authenticate: Bearer`, whether the site id exists or not, so site ids cannot be probed with a
token: an unknown id and a known one look alike to whoever lacks the known one's token."""

from __future__ import annotations

from flask import request

from companion.api.errors import ApiError
from companion.models import Site
from companion.sites import find_site, is_token_for

REALM = 'Bearer realm="sales-companion"'
NO_TOKEN = "Send the site's API token as 'Authorization: Bearer <token>'."
WRONG_TOKEN = "This token does not open this site id."


def site_for_token(public_id: str) -> Site:
    """The site, if the request carries its token; 401 otherwise, the same for every site id."""
    site = find_site(public_id)
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    if site is None or not is_token_for(site, token):
        if token:
            raise ApiError(
                401, WRONG_TOKEN, headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'}
            )
        raise ApiError(401, NO_TOKEN, headers={"WWW-Authenticate": REALM})
    return site


def known_site(public_id: str) -> Site:
    site = find_site(public_id)
    if site is None:
        raise ApiError(404, "Unknown site id.")
    return site
