"""Shared world for the email edge: Prism playing SendGrid, a sample shop, a signing secret."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from companion.email.sendgrid import SendGridTransport

ROOT = Path(__file__).resolve().parents[2]
SENDGRID_SPEC = ROOT / "specs" / "sendgrid" / "oas_v3.json"
PRISM = ROOT / "node_modules" / ".bin" / "prism"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/v3/mail/send", timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _wait_for(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Prism did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SendGrid as its OpenAPI document describes it, on a free local port."""
    if not PRISM.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    port = _free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PRISM), "mock", "-p", str(port), "-h", "127.0.0.1", str(SENDGRID_SPEC)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(process, url, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


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
    mug = {"name": "Blue mug", "price": "19.95", "quantity": 2, "image": f"{shop}/mug.jpg",
           "url": f"{shop}/product/mug?colour=blue&size=l"}
    saucer = {"name": "Saucer", "price": "9.00", "url": f"{shop}/product/saucer",
              "image": f"{shop}/saucer.jpg"}
    return {
        "shop": {"name": "Ana & Bo's", "url": f"{shop}/", "address": "1 Main St, Springfield"},
        "contact": {"first_name": "Zoë <Admin>", "email": "zoe@example.com"},
        "currency": "EUR",
        "order": {"number": "1042", "total": "59.90", "items": [mug],
                  "url": f"{shop}/my-account/view-order/1042/"},
        "review_url": f"{shop}/product/mug#reviews",
        "products": [saucer],
        "cart": {"items": [mug], "value": "39.90",
                 "restore_url": f"{shop}/checkout/?sc_recover=payload.signature"},
        "coupon": {"code": "COMEBACK10", "description": "10% off your next order"},
        "product": {"name": "Coffee beans", "price": "12.50", "url": f"{shop}/product/beans"},
        "reorder_url": f"{shop}/cart/?add-to-cart=77",
        "subscription": {"product_name": "Pro plugin", "kind": "license",
                         "expires_at": "31 December 2026", "price": "49.00",
                         "renewal_url": f"{shop}/checkout/?renew=key"},
        "reward": {"title": "Free shipping", "description": "on every order this year",
                   "code": "VIPSHIP"},
        "upsell": {"name": "Big mug", "price": "29.00", "url": f"{shop}/product/big-mug"},
        "early_access_url": f"{shop}/collections/new",
    }
