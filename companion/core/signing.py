"""Standard Webhooks signatures (https://www.standardwebhooks.com): sign and verify."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time


class SignatureError(Exception):
    """The request is not signed by the site's secret, or too old; the message says which."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


UNIX_SECONDS = re.compile(r"[0-9]{1,12}", re.ASCII)


def whsec_key(whsec_secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` signing secret, as Standard Webhooks defines it."""
    encoded = whsec_secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("signing secret is not whsec_<base64>") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(whsec_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secret: str,
    headers: dict[str, str | None],
    body: bytes,
    tolerance_s: int = 300,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless one v1 signature matches and the timestamp is fresh."""
    msg_id, stamp, signatures = (
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    )
    if not msg_id or not stamp or not signatures:
        raise SignatureError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    if not UNIX_SECONDS.fullmatch(stamp):  # not int(): it takes " 1", "1_0", "+1" and 400 digits
        raise SignatureError("webhook-timestamp must be unix seconds (digits only).")
    timestamp = int(stamp)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError(
            "webhook-timestamp is more than 5 minutes away from now; check the clock."
        )
    expected = sign(secret, msg_id, timestamp, body).encode()
    for candidate in signatures.split():
        if hmac.compare_digest(candidate.encode(), expected):
            return
    raise SignatureError("No signature matches: check the site's signing secret.")
