"""schemathesis over every operation of /openapi.json: its coverage phase (boundary and invalid
values of each parameter and body) and its fuzzing phase, against the app in-process on a small
world (a site, its token, a signed-in dashboard session, a live worker and scheduler, SendGrid's
webhook
key set). No answer is a
5xx and every answer matches the schema: its status, content type, headers and body.

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
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, settings
from rq import Worker

from companion.api.openapi import build_spec
from companion.app import create_app
from companion.core import runtime
from companion.core.db import database
from companion.models import Site
from tests.dashboard.session import sign_in
from tests.helpers import signed_headers

# Fuzzing examples per operation (the coverage phase adds its own); COMPANION_TEST_FUZZ_EXAMPLES
# raises it for a longer hunt.
EXAMPLES = int(os.environ.get("COMPANION_TEST_FUZZ_EXAMPLES", "100"))
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
            # A token of no site, or of another site, gets 404 so site ids cannot be probed
            # (companion/api/auth.py); schemathesis expects 401/403 there.
            "ignored_auth": {"enabled": True},
            # What the code refuses beyond what the document says (a year past 2200, a flow key
            # outside the list, a sign-in form without its CSRF token) is a 4xx, not a failure.
            "positive_data_acceptance": {"enabled": True},
            # A batch over 500 events is refused with 413, as DESIGN 3.1 says.
            "negative_data_rejection": {"expected-statuses": [*NEGATIVE, 413]},
            # GET /dashboard/logout is redirected to /dashboard/logout/ (a site page that is not
            # one).
            "unsupported_method": {"enabled": True},
        },
        # Without a session a dashboard page sends the browser to the sign-in page.
        "operations": [
            {
                "include-path-regex": "^/dashboard/",
                "checks": {"negative_data_rejection": {"expected-statuses": [*NEGATIVE, 302, 413]}},
            }
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


def _wire_body(case: Any) -> bytes:
    if type(case.body).__name__ == "NotSet":
        return b""
    if isinstance(case.body, bytes):
        return case.body
    return json.dumps(case.body).encode()


@pytest.fixture
def world(db: Any, settings: Any, site: Any) -> Any:
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
    browser = app.test_client()
    sign_in(browser, site)
    _world["site"], _world["session"], CURRENT.app = (
        site,
        browser.get_cookie(SESSION_COOKIE).value,
        app,
    )
    yield site
    _world.clear()
    CURRENT.app = None


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
