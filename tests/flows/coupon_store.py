"""A small local HTTP server playing the plugin's coupon route (wp-plugin/includes/
class-coupons.php): it checks the signature exactly as the PHP route does, written out here
again rather than with the service's own verify(), so a service that signs differently fails."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CouponStore:
    """Coupons by (lower-case) code, as WooCommerce keeps them; `mode` makes it fail."""

    def __init__(self, secret: str) -> None:
        # Settings::signing_key(): the base64 part of whsec_..., decoded
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.coupons: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.mode = "ok"  # ok | down (503) | not_supported (501) | lose_answer (make, answer 504)
        self.url = ""

    def refusal(self, headers: Any, body: bytes) -> str:
        """Coupons::verify(), line by line."""
        msg_id = headers.get("webhook-id") or ""
        stamp = headers.get("webhook-timestamp") or ""
        signature = headers.get("webhook-signature") or ""
        if not msg_id or not stamp or not signature:
            return "missing headers"
        if not re.fullmatch(r"[0-9]{1,12}", stamp):
            return "timestamp not digits"
        if abs(time.time() - int(stamp)) > 300:
            return "stale"
        digest = hmac.new(self.key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(digest).decode()
        if not any(hmac.compare_digest(expected, c) for c in signature.split()):
            return "bad signature"
        if msg_id in self.seen:
            return "replay"
        self.seen.add(msg_id)
        return ""

    def answer(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        refusal = self.refusal(headers, body)
        data = json.loads(body) if not refusal else {}
        self.requests.append({"refusal": refusal, "data": data})
        if refusal:
            return 401, {"code": "unauthorized", "message": refusal}
        if self.mode == "down":
            return 503, {"code": "down", "message": "Service Unavailable"}
        if self.mode == "not_supported":
            return 501, {"code": "not_supported", "message": "not supported by this store"}
        code = data["code"].lower()  # WooCommerce lower-cases codes (wc-core-functions.php:41)
        held = self.coupons.get(code)
        if held is not None:
            if held["email"] == data["email"].lower():
                return 200, {"id": held["id"], "code": code, "created": False}
            return 409, {"code": "code_taken", "message": "taken"}
        self.coupons[code] = {**data, "email": data["email"].lower(), "id": len(self.coupons) + 1}
        if self.mode == "lose_answer":
            return 504, {"code": "timeout", "message": "Gateway Timeout"}
        return 201, {"id": self.coupons[code]["id"], "code": code, "created": True}


@contextmanager
def running(store: CouponStore) -> Iterator[CouponStore]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/?rest_route=/sales-companion/v1/coupons":
                status, payload = 404, {"code": "rest_no_route"}
            else:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, payload = store.answer(self.headers, body)
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    store.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield store
    finally:
        server.shutdown()
        server.server_close()
