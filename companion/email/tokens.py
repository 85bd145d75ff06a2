"""Signed, URL-safe tokens for email links, dashboard logins and cart recovery.

Tokens are signed, not encrypted: anyone holding one can read its payload, nobody can change or
forge it. That is enough because payloads carry only random message uuids (never a sequential id
or an email address), so a token reveals nothing an attacker could enumerate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from companion.core.signing import whsec_key

PURPOSE_OPEN = "open"
PURPOSE_CLICK = "click"
PURPOSE_UNSUBSCRIBE = "unsubscribe"
PURPOSE_LOGIN = "login"


class BadToken(ValueError):
    """The token is malformed, forged, expired, or meant for something else."""


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadToken("token is not base64url") from exc


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _sign(key: bytes, message: bytes) -> str:
    return b64url_encode(hmac.new(key, message, hashlib.sha256).digest())


def _now(now: float | None) -> int:
    return int(time.time() if now is None else now)


def _split(token: str) -> tuple[str, str]:
    body, dot, signature = token.partition(".")
    if not token.isascii() or not dot or not body or not signature or "." in signature:
        raise BadToken("token is not <payload>.<signature>")
    return body, signature


def _check_signature(key: bytes, signed: bytes, signature: str) -> None:
    if not hmac.compare_digest(_sign(key, signed), signature):
        raise BadToken("signature does not match")


def _load_json_object(body: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadToken("payload is not JSON") from exc
    if not isinstance(value, dict):
        raise BadToken("payload is not an object")
    return value


def _check_expiry(exp: Any, now: float | None) -> None:
    if exp is None:
        return
    if not isinstance(exp, int) or exp < _now(now):
        raise BadToken("token has expired")


# --- service tokens (open pixel, click, unsubscribe, dashboard login) ---------------------------


def make_token(
    secret: bytes,
    purpose: str,
    payload: Mapping[str, Any],
    ttl: int | None,
    *,
    now: float | None = None,
) -> str:
    """`<payload_b64>.<sig_b64>`; the purpose is signed but not written, keeping tokens short."""
    body: dict[str, Any] = {"d": dict(payload)}
    if ttl is not None:
        body["e"] = _now(now) + ttl
    encoded = b64url_encode(_compact_json(body))
    return f"{encoded}.{_sign(secret, _purpose_message(purpose, encoded))}"


def read_token(
    secret: bytes, purpose: str, token: str, *, now: float | None = None
) -> dict[str, Any]:
    """The payload given to `make_token`; raises BadToken on forgery, expiry or wrong purpose."""
    encoded, signature = _split(token)
    _check_signature(secret, _purpose_message(purpose, encoded), signature)
    body = _load_json_object(encoded)
    _check_expiry(body.get("e"), now)
    payload = body.get("d")
    if not isinstance(payload, dict):
        raise BadToken("payload is not an object")
    return payload


def _purpose_message(purpose: str, encoded: str) -> bytes:
    return f"sales-companion.{purpose}.{encoded}".encode()


def open_token(secret: bytes, message_id: str) -> str:
    return make_token(secret, PURPOSE_OPEN, {"m": message_id}, None)


def click_token(secret: bytes, message_id: str, link_index: int) -> str:
    return make_token(secret, PURPOSE_CLICK, {"m": message_id, "l": link_index}, None)


def unsubscribe_token(secret: bytes, message_id: str) -> str:
    return make_token(secret, PURPOSE_UNSUBSCRIBE, {"m": message_id}, None)


def login_token(
    secret: bytes, site_id: str, ttl: int = 900, *, generation: int = 0, now: float | None = None
) -> str:
    # The nonce makes every link its own: each works once (dashboard sessions remember it). The
    # site's session generation ends the links still unused when the owner signs out everywhere.
    payload = {"s": site_id, "n": secrets.token_urlsafe(9), "g": generation}
    return make_token(secret, PURPOSE_LOGIN, payload, ttl, now=now)


# --- cart recovery (contract shared with the WordPress plugin) ----------------------------------


def _recover_items(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "product_id": str(item["product_id"]),
            "variation_id": str(item.get("variation_id") or "0"),
            "quantity": int(item["quantity"]),
        }
        for item in items
    ]


def make_recover_token(
    whsec_secret: str,
    site_id: str,
    cart_token: str,
    items: Iterable[Mapping[str, Any]],
    ttl: int,
    *,
    now: float | None = None,
) -> str:
    """The `sc_recover` value the plugin turns back into a cart (see docs/email.md)."""
    payload = {
        "v": 1,
        "site": str(site_id),
        "cart": cart_token,
        "items": _recover_items(items),
        "exp": _now(now) + ttl,
    }
    encoded = b64url_encode(_compact_json(payload))
    return f"{encoded}.{_sign(whsec_key(whsec_secret), encoded.encode('ascii'))}"


def read_recover_token(
    whsec_secret: str, token: str, *, site_id: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """Verifies a recovery token as the plugin does: signature, expiry, and (when given) site."""
    encoded, signature = _split(token)
    _check_signature(whsec_key(whsec_secret), encoded.encode("ascii"), signature)
    payload = _load_json_object(encoded)
    if payload.get("v") != 1:
        raise BadToken("unknown token version")
    if payload.get("exp") is None:
        raise BadToken("token has no expiry")
    _check_expiry(payload.get("exp"), now)
    if site_id is not None and payload.get("site") != str(site_id):
        raise BadToken("token belongs to another site")
    return payload
