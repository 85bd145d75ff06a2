"""Cart-recovery tokens: the contract the WordPress plugin verifies (sc_recover)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
from typing import Any

import pytest

from companion.tokens import BadToken, b64url_decode, make_recover_token, read_recover_token

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
ITEMS: list[dict[str, Any]] = [{"product_id": 12, "variation_id": None, "quantity": 2},
         {"product_id": "40", "variation_id": "41", "quantity": "1"}]

# What the plugin does with the token, in PHP, so the two sides are checked against each other.
PHP_VERIFIER = r"""
$b64url = fn($s) => base64_decode(strtr($s, '-_', '+/') . str_repeat('=', (4 - strlen($s) % 4) % 4));
[$secret, $token, $site, $now] = array_slice($argv, 1);
$key = base64_decode(substr($secret, strlen('whsec_')));
[$payload, $sig] = explode('.', $token, 2);
$expected = rtrim(strtr(base64_encode(hash_hmac('sha256', $payload, $key, true)), '+/', '-_'), '=');
if (!hash_equals($expected, $sig)) { echo "bad signature"; exit; }
$data = json_decode($b64url($payload), true);
if ($data['exp'] < (int) $now) { echo "expired"; exit; }
if ($data['site'] !== $site) { echo "other site"; exit; }
echo json_encode($data['items']);
"""


def _php_verdict(token: str, site: str, now: int) -> str:
    run = subprocess.run(["php", "-r", PHP_VERIFIER, "--", SECRET, token, site, str(now)],
                         capture_output=True, text=True, check=True, timeout=30)
    return run.stdout


def test_the_payload_is_the_compact_json_of_the_contract() -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    payload = b64url_decode(token.split(".")[0]).decode()
    assert payload == (
        '{"v":1,"site":"site-1","cart":"cart-abc","items":'
        '[{"product_id":"12","variation_id":"0","quantity":2},'
        '{"product_id":"40","variation_id":"41","quantity":1}],"exp":1700003600}'
    )


def test_the_signature_is_hmac_sha256_of_the_payload_part_with_the_whsec_key() -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=60)
    payload, signature = token.split(".")
    expected = hmac.new(KEY, payload.encode("ascii"), hashlib.sha256).digest()
    assert b64url_decode(signature) == expected
    assert "=" not in token


def test_the_plugin_rebuilds_the_cart_from_a_fresh_token() -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    items = json.loads(_php_verdict(token, "site-1", 1_700_000_100))
    assert items == [{"product_id": "12", "variation_id": "0", "quantity": 2},
                     {"product_id": "40", "variation_id": "41", "quantity": 1}]


def test_the_plugin_refuses_expired_and_other_sites_tokens() -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    assert _php_verdict(token, "site-1", 1_700_003_601) == "expired"
    assert _php_verdict(token, "site-2", 1_700_000_100) == "other site"
    assert _php_verdict(token[:-2] + "AA", "site-1", 1_700_000_100) == "bad signature"


def test_the_service_reads_its_own_token_back() -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    data = read_recover_token(SECRET, token, site_id="site-1", now=1_700_000_001)
    assert data["cart"] == "cart-abc" and data["items"][0]["quantity"] == 2


@pytest.mark.parametrize("site, now, reason", [
    ("site-2", 1_700_000_001, "another site"),
    ("site-1", 1_700_003_601, "expired"),
])
def test_the_service_refuses_what_the_plugin_refuses(site: str, now: int, reason: str) -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    with pytest.raises(BadToken, match=reason):
        read_recover_token(SECRET, token, site_id=site, now=now)


def test_a_token_signed_with_another_sites_secret_is_refused() -> None:
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    token = make_recover_token(other, "site-1", "cart-abc", ITEMS, ttl=3600)
    with pytest.raises(BadToken, match="signature"):
        read_recover_token(SECRET, token)
