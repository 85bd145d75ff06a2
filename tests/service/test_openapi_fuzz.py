"""schemathesis over every operation of /openapi.json: its coverage phase (boundary and invalid
values of each parameter and body) and its fuzzing phase, against the app in-process on a small
world (a site, its token, a signed-in dashboard session and its CSRF token, a live worker and
scheduler, SendGrid's webhook key set). No answer is a 5xx, every answer matches the schema (its
status, content type, headers and body), what the document calls valid is accepted and what it
calls invalid is refused, credentials are enforced and an unlisted method is a 405.

The plugin's events and WooCommerce's webhooks are signed by a `before_call` hook over the exact
bytes sent, so fuzzed bodies reach the code behind the signature check. schemathesis's own probes
of authentication (a case with the credential removed or replaced) bypass that hook and stay
unsigned, so they must be refused."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import os
import time
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, settings
from rq import Worker

from companion.api.openapi import build_spec
from companion.api.schemas.metrics import MAX_DAYS
from companion.app import create_app
from companion.core import runtime
from companion.core.db import database
from companion.models import Site
from tests.dashboard.session import csrf_of, sign_in
from tests.helpers import signed_headers

# Fuzzing examples per operation (the coverage phase adds its own). scripts/test-fuzz.sh asks for
# 300 (about 25,000 cases, 10 minutes of one core), and scripts/test-all.sh runs it beside the
# other suites; 60 by default here, for a quick run of the file alone.
EXAMPLES = int(os.environ.get("COMPANION_TEST_FUZZ_EXAMPLES", "60"))
WOO_SECRET = "woo-secret-for-fuzzing"
SIGN_ME = "sign-me"
SESSION_COOKIE = "companion_dashboard"
NEGATIVE = [400, 401, 403, 404, 405, 406, 409, 415, 422, 428, 429]
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "seed": 16,
        "phases": {
            "examples": {"enabled": False},
            "stateful": {"enabled": False},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
        },
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "checks": {
            # Every check on. Anything but a site's own token answers 401 with WWW-Authenticate,
            # the same for a known and an unknown site id (companion/api/auth.py), so ids still
            # cannot be probed (tests/service/test_tenancy.py).
            "ignored_auth": {"enabled": True},
            # The document says what the code refuses beyond a field's type (years 1970-2200,
            # the listed flow keys, the forms' CSRF token, ...: tests/service/
            # test_openapi_document.py), so whatever it calls valid is accepted.
            "positive_data_acceptance": {"enabled": True},
            # A batch over 500 events is refused with 413, as DESIGN 3.1 says.
            "negative_data_rejection": {"expected-statuses": [*NEGATIVE, 413]},
            # GET /dashboard/logout is 405 with Allow, not a site's overview
            # (tests/dashboard/test_sign_in.py).
            "unsupported_method": {"enabled": True},
        },
        # Without a session a dashboard page sends the browser to the sign-in page.
        "operations": [
            {
                "include-path-regex": "^/dashboard/",
                "checks": {"negative_data_rejection": {"expected-statuses": [*NEGATIVE, 302, 413]}},
            },
            {
                # The JSON body is WooCommerce's own REST v3 resource (an order, a product or a
                # customer: WooCommerce documents its hundreds of fields), which this document
                # does not restate, so "any object" is not a promise that any object maps; the
                # mapping is checked against WooCommerce's real payloads in tests/woocommerce.
                # Every other check (no 5xx, the answers' schema, the signature) holds here too.
                "include-path-regex": "/woocommerce$",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {
                # A unique coupon's amount is more than 0, and at most 100 when its discount_type
                # is percent: a rule across two fields that OpenAPI 3.0 cannot state (the document
                # says it in words; a coupon's two shapes are a oneOf). Money's pattern allows
                # "0", so a schema-valid flow settings body may carry a refused coupon.
                # tests/flows/test_coupons.py holds the rule; every other check holds here too.
                "include-path-regex": "^/v1/sites/[^/]+/flows(/[^/]+)?$",
                "include-method": "PUT",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
        ],
    }
)


class _CurrentApp:
    """The WSGI app schemathesis calls: the test's own, bound by the `world` fixture."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


CURRENT = _CurrentApp()
# The document GET /openapi.json serves (built without an app, so collecting touches nothing;
# test_the_fuzzed_document_is_the_one_served checks they are the same).
schema = schemathesis.openapi.from_dict(build_spec(), config=CONFIG)
schema.app = CURRENT
_world: dict[str, Any] = {}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Sign the exact bytes that will be sent, as the plugin and WooCommerce do, where the test
    asked for it (the header holds SIGN_ME)."""
    site, headers = _world.get("site"), case.headers or {}
    if site is None:
        return
    body = _wire_body(case)
    if headers.get("webhook-signature") == SIGN_ME:
        kwargs["data"] = body
        headers.update(signed_headers(site.secret, body))
        headers.pop("Content-Type", None)
    elif headers.get("X-WC-Webhook-Signature") == SIGN_ME:
        kwargs["data"] = body
        digest = hmac.new(WOO_SECRET.encode(), body, hashlib.sha256).digest()
        headers["X-WC-Webhook-Signature"] = base64.b64encode(digest).decode()


@schemathesis.hook
def map_query(context: Any, query: Any) -> Any:
    """A day range as the metrics routes' document describes it in words (JSON Schema cannot
    relate two fields): `to` not before `from`, fewer than MAX_DAYS days after it. Only a range of
    two valid days is touched, so what is invalid stays invalid."""
    if not isinstance(query, dict):
        return query
    try:
        start, end = date.fromisoformat(query["from"]), date.fromisoformat(query["to"])
    except (KeyError, TypeError, ValueError):
        return query
    if not all(
        len(query[k]) == 10 and 1970 <= d.year <= 2200 for k, d in (("from", start), ("to", end))
    ):
        return query
    start, end = min(start, end), max(start, end)
    end = min(end, start + timedelta(days=MAX_DAYS - 1))
    return {**query, "from": start.isoformat(), "to": end.isoformat()}


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """replenish_days keys are product ids of 1 to 64 characters, which the document says in words
    (OpenAPI 3.0 has no propertyNames): keys outside that are left out of what is drawn."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        return {
            key: (
                {k: v for k, v in value.items() if 1 <= len(k) <= 64}
                if key == "replenish_days" and isinstance(value, dict)
                else walk(value)
            )
            for key, value in node.items()
        }

    return walk(body)


def _wire_body(case: Any) -> bytes:
    if type(case.body).__name__ == "NotSet":
        return b""
    if isinstance(case.body, bytes):
        return case.body
    return json.dumps(case.body).encode()


@pytest.fixture
def world(db: Any, settings: Any, site: Any, request: Any) -> Any:
    key = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    app = create_app(
        dataclasses.replace(settings, sendgrid_webhook_public_key=base64.b64encode(key).decode()),
        migrate=False,
    )
    app.config["TESTING"] = True
    database.initialize(db)
    Site.update(woo_secret=WOO_SECRET).where(Site.id == site.site.id).execute()
    worker = Worker([runtime.queue()], connection=runtime.redis_connection())
    worker.register_birth()
    worker.heartbeat()
    runtime.redis_connection().set(runtime.SCHEDULER_HEARTBEAT_KEY, str(time.time()))
    _world["site"], CURRENT.app = site, app
    _world["session"], _world["csrf"] = _session()
    _world["calls"] = 0
    yield site
    _record_calls(request.node.name, _world["calls"])
    _world.clear()
    CURRENT.app = None


def _record_calls(operation: str, calls: int) -> None:
    """How many cases one operation got, a line of JSON appended to the file
    COMPANION_TEST_FUZZ_CALLS names (scripts/test-python.sh prints the spread)."""
    path = os.environ.get("COMPANION_TEST_FUZZ_CALLS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"operation": operation, "calls": calls}) + "\n")


def _session() -> tuple[str, str]:
    """A signed-in dashboard session: its cookie and its CSRF token."""
    browser = CURRENT.app.test_client()
    sign_in(browser, _world["site"])
    token = csrf_of(browser, f"/dashboard/{_world['site'].site.public_id}/flows")
    return browser.get_cookie(SESSION_COOKIE).value, token


@pytest.mark.fuzz
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx_or_outside_its_schema(case: Any, world: Any) -> None:
    if "site_id" in case.path_parameters:
        case.path_parameters["site_id"] = world.site.public_id
    headers = case.headers or {}
    if "Authorization" in headers:
        headers["Authorization"] = f"Bearer {world.api_token}"
    for name in ("webhook-signature", "X-WC-Webhook-Signature"):
        if name in headers:
            headers[name] = SIGN_ME
    case.headers = headers
    if SESSION_COOKIE in (case.cookies or {}):
        case.cookies[SESSION_COOKIE] = _world["session"]
    if isinstance(case.body, dict) and "csrf_token" in case.body:
        # A form sent with its session's CSRF token, as the page would. Signing in and out get a
        # session of their own: signing out ends it.
        cookie, token = (
            _session()
            if case.path
            in ("/dashboard/login", "/dashboard/logout", "/dashboard/logout/everywhere")
            else (_world["session"], _world["csrf"])
        )
        case.body["csrf_token"] = token
        case.cookies = {**(case.cookies or {}), SESSION_COOKIE: cookie}
    _world["calls"] += 1
    case.call_and_validate()


def test_the_fuzzed_document_is_the_one_served(client: Any) -> None:
    assert client.get("/openapi.json").get_json() == json.loads(json.dumps(build_spec()))


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("post", "events"),
        ("put", "flows"),
        ("put", "flows/vip"),
        ("post", "privacy/export"),
        ("post", "privacy/erase"),
    ],
)
def test_a_body_too_deeply_nested_to_read_gets_the_400_the_document_lists(
    client: Any, site: Any, method: str, route: str
) -> None:
    body = ("[" * 100_000 + "]" * 100_000).encode()
    headers = {**signed_headers(site.secret, body), "Authorization": f"Bearer {site.api_token}"}
    answer = getattr(client, method)(
        f"/v1/sites/{site.site.public_id}/{route}", data=body, headers=headers
    )
    documented = build_spec()["paths"][f"/v1/sites/{{site_id}}/{route.replace('vip', '{key}')}"][
        method
    ]
    assert answer.status_code == 400 and answer.is_json and "400" in documented["responses"]
