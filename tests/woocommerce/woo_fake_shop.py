"""A local HTTP server that answers like WooCommerce's REST API v3, for the importer's tests and
bench.

It serves collections in id order with WooCommerce's pagination (per_page <= 100, page or offset,
X-WP-Total, X-WP-TotalPages, Link), checks auth the way WC_REST_Authentication does (Basic over
HTTPS, OAuth 1.0a one-legged over HTTP), and can be told to fail chosen requests with 500/429 or
to drop the connection half-way through a body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

KEY, SECRET = "ck_0123456789abcdef", "cs_fedcba9876543210"


class FakeShop:
    """Owns the data and the fault plan; `url` is its home URL once started."""

    def __init__(
        self,
        collections: dict[str, Sequence[dict[str, Any]]],
        refunds: dict[int, dict[str, Any]] | None = None,
        *,
        global_refunds: bool = True,
        key: str = KEY,
        secret: str = SECRET,
    ) -> None:
        self.collections = collections
        self.refunds = refunds or {}
        self.global_refunds = global_refunds
        self.key, self.secret = key, secret
        self.faults: dict[
            int, Any
        ] = {}  # request number (1-based) -> 500 | 429 | "drop" | (429, "7")
        self.before_request: list[Callable[[int], None]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.used_nonces: set[str] = set()
        self.lock = threading.Lock()
        self.url = ""
        self._server: ThreadingHTTPServer | None = None

    def start(self, ssl_context: Any = None) -> FakeShop:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.shop = self  # type: ignore[attr-defined]
        scheme = "http"
        if ssl_context is not None:
            server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
            scheme = "https"
        self._server = server
        self.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def answer(
        self, method: str, path: str, query: list[tuple[str, str]], authorization: str | None
    ) -> tuple[int, dict[str, str], Any]:
        """(status, headers, JSON body) for one request; the transport is _Handler's job."""
        error = self._auth_error(method, path, query, authorization)
        if error:
            return (
                401,
                {},
                {
                    "code": "woocommerce_rest_authentication_error",
                    "message": error,
                    "data": {"status": 401},
                },
            )
        route = path.removeprefix("/wp-json/wc/v3/")
        params = dict(query)
        if route == "refunds" and self.global_refunds:
            return self._collection(route, self._refunds_by_include(params), params)
        if route.startswith("orders/") and route.endswith("/refunds"):
            order_id = int(route.split("/")[1])
            found = [r for r in self.refunds.values() if r["parent_id"] == order_id]
            return self._collection(route, found, params)
        if route in self.collections:
            return self._collection(route, self._filtered(route, params), params)
        return (
            404,
            {},
            {
                "code": "rest_no_route",
                "message": "No route was found matching the URL and request method.",
                "data": {"status": 404},
            },
        )

    def _collection(
        self, route: str, items: Sequence[dict[str, Any]], params: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        per_page = int(params.get("per_page", 10))
        if per_page > 100:
            return 400, {}, {"code": "rest_invalid_param", "message": "per_page must be <= 100"}
        if route in self.collections and (params.get("orderby"), params.get("order")) != (
            "id",
            "asc",
        ):
            return (
                400,
                {},
                {"code": "fake_shop", "message": "this fake only serves orderby=id&order=asc"},
            )
        page = int(params.get("page", 1))
        offset = int(params["offset"]) if params.get("offset") else (page - 1) * per_page
        total = len(items)
        pages = math.ceil(total / per_page)
        return (
            200,
            {
                "X-WP-Total": str(total),
                "X-WP-TotalPages": str(pages),
                **_link_header(self.url + "/wp-json/wc/v3/" + route, params, page, pages),
            },
            list(items[offset : offset + per_page]),
        )

    def _filtered(self, route: str, params: dict[str, str]) -> Sequence[dict[str, Any]]:
        items = self.collections[route]
        after = params.get("modified_after")
        if after and route != "customers":
            assert params.get("dates_are_gmt") == "true"
            return [i for i in items if i["date_modified_gmt"] > after]
        return items

    def _refunds_by_include(self, params: dict[str, str]) -> list[dict[str, Any]]:
        wanted = [int(i) for i in params.get("include", "").split(",") if i]
        return [self.refunds[i] for i in sorted(wanted) if i in self.refunds]

    def _auth_error(
        self, method: str, path: str, query: list[tuple[str, str]], authorization: str | None
    ) -> str | None:
        if self.url.startswith("https://"):
            expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
            return None if authorization == expected else "Consumer secret is invalid."
        return self._oauth_error(method, path, query)

    def _oauth_error(self, method: str, path: str, query: list[tuple[str, str]]) -> str | None:
        """WC_REST_Authentication::check_oauth_signature and check_oauth_timestamp_and_nonce."""
        params = dict(query)  # PHP's $_GET: the last of repeated keys wins
        if params.get("oauth_consumer_key") != self.key:
            return "Consumer key is invalid."
        consumer_signature = unquote(params.pop("oauth_signature", "").replace(" ", "+"))
        method_name = params.get("oauth_signature_method")
        if method_name not in ("HMAC-SHA1", "HMAC-SHA256"):
            return "Invalid signature - signature method is invalid."
        pairs = [_rfc3986(f"{_rfc3986(k)}={_rfc3986(params[k])}") for k in sorted(params)]
        string_to_sign = f"{method}&{_rfc3986(self.url + path)}&{'%26'.join(pairs)}"
        digest = hashlib.sha1 if method_name == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(
            hmac.new(f"{self.secret}&".encode(), string_to_sign.encode(), digest).digest()
        ).decode()
        if not hmac.compare_digest(expected, consumer_signature):
            return "Invalid signature - provided signature does not match."
        if abs(int(params.get("oauth_timestamp", 0)) - time.time()) > 15 * 60:
            return "Invalid timestamp."
        nonce = params.get("oauth_nonce", "")
        if nonce in self.used_nonces:
            return "Invalid nonce - nonce has already been used."
        self.used_nonces.add(nonce)
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes; no 40 ms delayed-ACK stall
    server: Any

    def do_GET(self) -> None:
        shop: FakeShop = self.server.shop
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        with shop.lock:
            shop.requests.append((parts.path, dict(query)))
            number = len(shop.requests)
            fault = shop.faults.get(number)
            for hook in shop.before_request:
                hook(number)
            status, headers, body = shop.answer(
                "GET", parts.path, query, self.headers.get("Authorization")
            )
        raw = json.dumps(body).encode()
        if fault == "drop":
            return self._drop(raw)
        if fault is not None:
            code, retry_after = fault if isinstance(fault, tuple) else (fault, None)
            status, headers, raw = (
                code,
                ({"Retry-After": retry_after} if retry_after else {}),
                b'{"code":"internal_server_error","message":"boom"}',
            )
        self._send(status, headers, raw)

    def _send(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _drop(self, raw: bytes) -> None:
        """Headers promise the whole body; half of it arrives, then the connection dies."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw[: len(raw) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        return


def _rfc3986(text: str) -> str:
    """PHP's rawurlencode, which wc_rest_urlencode_rfc3986 wraps."""
    return quote(text, safe="-_.~")


def _link_header(base: str, params: dict[str, str], page: int, pages: int) -> dict[str, str]:
    query = {k: v for k, v in params.items() if not k.startswith("oauth_")}
    links = []
    if page > 1:
        links.append(f'<{base}?{urlencode({**query, "page": min(page - 1, pages)})}>; rel="prev"')
    if pages > page:
        links.append(f'<{base}?{urlencode({**query, "page": page + 1})}>; rel="next"')
    return {"Link": ", ".join(links)} if links else {}
