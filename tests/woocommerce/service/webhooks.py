"""Delivering a WooCommerce webhook as WooCommerce signs it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from companion.sites import NewSite

WOO_SECRET = "wc-webhook-secret-0123456789"


def wc_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(
    client: Any,
    new_site: NewSite,
    topic: str,
    body: bytes | dict[str, Any],
    *,
    secret: str | None = WOO_SECRET,
    signature: str | None = None,
) -> Any:
    """POST a delivery with the headers WooCommerce 8.9 sends (signature left out when secret is
    None)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    resource, _, event = topic.partition(".")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)",
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": "5f1c0a8b",
    }
    if signature is not None or secret is not None:
        headers["X-WC-Webhook-Signature"] = signature or wc_signature(secret or "", raw)
    return client.post(
        f"/v1/sites/{new_site.site.public_id}/woocommerce", data=raw, headers=headers
    )
