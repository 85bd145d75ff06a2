"""Shared world for the email edge: Prism playing SendGrid, a sample shop, a signing secret."""

from __future__ import annotations

from typing import Any

import pytest

from companion.email.sendgrid import SendGridTransport


@pytest.fixture
def transport(prism_url: str) -> SendGridTransport:
    return SendGridTransport(api_key="SG.test-key", host=prism_url, timeout=10.0)


@pytest.fixture
def link_secret() -> bytes:
    return b"a-service-secret-of-thirty-two-bytes!"


@pytest.fixture
def shop_context() -> dict[str, Any]:
    """Everything any flow's default template reads, with values that need escaping."""
    shop = "https://shop.example.com"
    mug = {
        "name": "Blue mug",
        "price": "19.95",
        "quantity": 2,
        "image": f"{shop}/mug.jpg",
        "url": f"{shop}/product/mug?colour=blue&size=l",
    }
    saucer = {
        "name": "Saucer",
        "price": "9.00",
        "url": f"{shop}/product/saucer",
        "image": f"{shop}/saucer.jpg",
    }
    return {
        "shop": {"name": "Ana & Bo's", "url": f"{shop}/", "address": "1 Main St, Springfield"},
        "contact": {"first_name": "Zoë <Admin>", "email": "zoe@example.com"},
        "currency": "EUR",
        "order": {
            "number": "1042",
            "total": "59.90",
            "items": [mug],
            "url": f"{shop}/my-account/view-order/1042/",
        },
        "review_url": f"{shop}/product/mug#reviews",
        "products": [saucer],
        "cart": {
            "items": [mug],
            "value": "39.90",
            "restore_url": f"{shop}/checkout/?sc_recover=payload.signature",
        },
        "coupon": {"code": "COMEBACK10", "description": "10% off your next order"},
        "product": {"name": "Coffee beans", "price": "12.50", "url": f"{shop}/product/beans"},
        "reorder_url": f"{shop}/cart/?add-to-cart=77",
        "subscription": {
            "product_name": "Pro plugin",
            "kind": "license",
            "expires_at": "31 December 2026",
            "price": "49.00",
            "renewal_url": f"{shop}/checkout/?renew=key",
        },
        "reward": {
            "title": "Free shipping",
            "description": "on every order this year",
            "code": "VIPSHIP",
        },
        "upsell": {"name": "Big mug", "price": "29.00", "url": f"{shop}/product/big-mug"},
        "early_access_url": f"{shop}/collections/new",
    }
