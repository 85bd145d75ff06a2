"""Sites (stores): creation with their secrets, lookup, token authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from companion.core.db import database
from companion.core.signing import new_secret
from companion.models import Site


class SiteError(ValueError):
    """A site setting is invalid; the message says which and why."""


@dataclass(frozen=True)
class NewSite:
    site: Site
    secret: str
    api_token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_site(name: str, url: str, timezone: str = "UTC", currency: str = "USD") -> NewSite:
    """Create a store with a fresh signing secret and API token (the token is shown only once)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(f"--timezone: unknown IANA time zone {timezone!r}") from None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        # The address goes into every mail's links: only http(s) with a host (issue 16, defect 5).
        raise SiteError(f"--url: expected the store's http(s) address, got {url!r}")
    if len(currency) != 3 or not currency.isalpha():
        raise SiteError(f"--currency: expected an ISO 4217 code such as USD, got {currency!r}")
    token = "sc_" + secrets.token_urlsafe(32)
    secret = new_secret()
    site = Site.create(
        public_id=secrets.token_hex(8),
        name=name,
        url=url.strip().rstrip("/"),
        timezone=timezone,
        currency=currency.upper(),
        secret=secret,
        api_token_hash=hash_token(token),
        options={},
    )
    return NewSite(site=site, secret=secret, api_token=token)


def find_site(public_id: str) -> Site | None:
    """The site with this public id, or None. Every signed delivery starts here; the statement's
    text is built once per kind of database and reused, where `get_or_none` rebuilt peewee's query
    tree each time (~15% of the web's CPU for a delivery; docs/benchmarks.md, "Steady load on a
    quiet machine"). Still one read per request: a rotated secret takes effect at once."""
    sql, params = _site_by_public_id(type(database.obj))
    found = Site.raw(sql, *[public_id if p == _PUBLIC_ID else p for p in params])
    return next(iter(found), None)


_PUBLIC_ID = "<public id>"


@lru_cache(maxsize=8)
def _site_by_public_id(engine: type) -> tuple[str, list[object]]:
    """`get_or_none`'s statement as the bound database writes it, and its parameters with a
    marker where the public id goes."""
    return Site.select().where(Site.public_id == _PUBLIC_ID).limit(1).sql()


def is_token_for(site: Site, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(site.api_token_hash, hash_token(token or ""))


def set_woo_secret(site: Site, secret: str) -> None:
    if not secret:
        raise SiteError("--secret: the WooCommerce webhook secret must not be empty")
    Site.update(woo_secret=secret).where(Site.id == site.id).execute()


def site_option(site: Site, key: str, default: object = None) -> object:
    return (site.options or {}).get(key, default)
