"""Email links and SendGrid's callbacks (DESIGN 3.4): open pixel, click redirect, one-click
unsubscribe (RFC 8058), and the signed Event Webhook."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request
from markupsafe import escape

from companion.api.errors import ApiError
from companion.core import runtime
from companion.email.sendgrid import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookKeyError,
    is_fresh_timestamp,
    parse_events,
    verify_event_webhook,
)
from companion.flows import settlement, tracking
from companion.models import Site, utcnow

bp = Blueprint("tracking", __name__)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
# The unsubscribe page: no script at all, its one form posts to itself, and nobody may frame it
# (a framed button is a click-jacked unsubscribe); the token in its URL never leaves as a Referer.
PAGE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
WEBHOOK_KEY_HELP = (
    "The SendGrid Event Webhook is not configured: set COMPANION_SENDGRID_WEBHOOK_PUBLIC_KEY "
    "to the verification key SendGrid shows under Settings > Mail Settings > Event Webhook "
    "(enable 'Signed Event Webhook'), then restart the service."
)


def _secret() -> bytes:
    return runtime.settings().secret_key.encode()


@bp.get("/t/o/<token>.gif")
def open_pixel(token: str) -> Any:
    tracking.record_open(_secret(), token, utcnow())
    return Response(PIXEL, mimetype="image/gif", headers=NO_STORE)


@bp.get("/t/c/<token>")
def click(token: str) -> Any:
    target = tracking.click_target(_secret(), token, utcnow())
    if target is None:
        raise ApiError(404, "This link is not valid.")
    return redirect(target, code=302)


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title></head>'
        f'<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html", headers=PAGE_HEADERS)


@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    """GET shows a confirmation button (link scanners must not unsubscribe anyone); POST, from the
    button or a mailbox's one-click `List-Unsubscribe-Post`, unsubscribes."""
    message = tracking.message_for_unsubscribe(_secret(), token)
    if message is None:
        return _page("Link not valid", "<p>This unsubscribe link is not valid.</p>", 404)
    shop = escape(Site.get_by_id(message.site_id).name)
    if request.method == "POST":
        tracking.unsubscribe(message, utcnow())
        return _page(
            "You are unsubscribed",
            f"<p>{escape(message.to_email)} gets no more marketing email from "
            f"{shop}. Receipts for your orders and notices about your subscriptions "
            "still come.</p>",
        )
    return _page(
        "Unsubscribe",
        f"<p>Stop marketing email from {shop} to {escape(message.to_email)}?</p>"
        f'<form method="post"><button type="submit">Unsubscribe</button></form>',
    )


@bp.post("/v1/sendgrid/events")
def sendgrid_events() -> Any:
    key = runtime.settings().sendgrid_webhook_public_key
    if not key:
        raise ApiError(503, WEBHOOK_KEY_HELP)
    body = request.get_data(cache=True)
    signature, timestamp = (
        request.headers.get(SIGNATURE_HEADER),
        request.headers.get(TIMESTAMP_HEADER),
    )
    try:
        valid = bool(signature and timestamp) and verify_event_webhook(
            key, body, signature or "", timestamp or ""
        )
    except WebhookKeyError as exc:
        raise ApiError(503, f"COMPANION_SENDGRID_WEBHOOK_PUBLIC_KEY is not usable: {exc}") from None
    if not valid:
        raise ApiError(401, f"Missing or wrong {SIGNATURE_HEADER}.")
    if not is_fresh_timestamp(timestamp or "", utcnow()):
        raise ApiError(
            401,
            f"{TIMESTAMP_HEADER}: the timestamp is more than 5 minutes off (a replay, or a wrong "
            "clock).",
        )
    try:
        events = parse_events(body)
    except ValueError:
        raise ApiError(400, "The body must be a JSON array of event objects.") from None
    return jsonify(settlement.apply_provider_events(events, utcnow())), 200
