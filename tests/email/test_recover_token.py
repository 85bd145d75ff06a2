"""Cart-recovery tokens: the contract the WordPress plugin verifies (sc_recover)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from companion.email.tokens import BadToken, b64url_decode, make_recover_token, read_recover_token

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
ITEMS: list[dict[str, Any]] = [
    {"product_id": 12, "variation_id": None, "quantity": 2},
    {"product_id": "40", "variation_id": "41", "quantity": "1"},
]

PLUGIN = Path(__file__).resolve().parents[2] / "wp-plugin" / "includes"

# The plugin's own Recovery::verify, with WordPress's option storage as the only stand-in.
PHP_PLUGIN_VERIFY = r"""
define('ABSPATH', '/');
[$dir, $secret, $token, $site, $now] = array_slice($argv, 1);
function get_option($name, $default = null) {
    global $argv;
    return array('site_id' => $argv[4], 'secret' => $argv[2]);
}
require "$dir/class-hooks.php";
require "$dir/class-settings.php";
require "$dir/class-recovery.php";
$recovery = new SalesCompanion\Recovery(new SalesCompanion\Settings());
echo json_encode($recovery->verify($token, (int) $now));
"""


def _plugin_verdict(token: str, site: str, now: int) -> Any:
    run = subprocess.run(
        ["php", "-r", PHP_PLUGIN_VERIFY, "--", str(PLUGIN), SECRET, token, site, str(now)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(run.stdout)


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
    payload = _plugin_verdict(token, "site-1", 1_700_000_100)
    assert payload["cart"] == "cart-abc"
    assert payload["items"] == [
        {"product_id": "12", "variation_id": "0", "quantity": 2},
        {"product_id": "40", "variation_id": "41", "quantity": 1},
    ]


def test_the_plugin_refuses_expired_and_other_sites_tokens() -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    assert _plugin_verdict(token, "site-1", 1_700_003_601) is None
    assert _plugin_verdict(token, "site-2", 1_700_000_100) is None
    assert _plugin_verdict(token[:-2] + "AA", "site-1", 1_700_000_100) is None


def test_the_service_reads_its_own_token_back() -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    data = read_recover_token(SECRET, token, site_id="site-1", now=1_700_000_001)
    assert data["cart"] == "cart-abc" and data["items"][0]["quantity"] == 2


@pytest.mark.parametrize(
    "site, now, reason",
    [
        ("site-2", 1_700_000_001, "another site"),
        ("site-1", 1_700_003_601, "expired"),
    ],
)
def test_the_service_refuses_what_the_plugin_refuses(site: str, now: int, reason: str) -> None:
    token = make_recover_token(SECRET, "site-1", "cart-abc", ITEMS, ttl=3600, now=1_700_000_000)
    with pytest.raises(BadToken, match=reason):
        read_recover_token(SECRET, token, site_id=site, now=now)


def test_a_token_signed_with_another_sites_secret_is_refused() -> None:
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    token = make_recover_token(other, "site-1", "cart-abc", ITEMS, ttl=3600)
    with pytest.raises(BadToken, match="signature"):
        read_recover_token(SECRET, token)
