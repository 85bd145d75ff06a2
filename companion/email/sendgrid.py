"""SendGrid, behind one seam: the only module that imports `sendgrid`.

Sending: `SendGridTransport.send` / `send_batch` post to v3 mail/send and raise `SendError`s that
say whether a retry can help. Receiving: `verify_event_webhook` checks the Event Webhook's ECDSA
signature and `parse_events` turns its body into `EmailEvent`s.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import http.client
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import python_http_client.exceptions as http_errors
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid import SendGridAPIClient

from companion.core.numbers import whole_number

SENDGRID_HOST = "https://api.sendgrid.com"
MESSAGE_ID_ARG = "sc_message_id"
MAX_PERSONALIZATIONS = 1000
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class WebhookKeyError(ValueError):
    """The configured Event Webhook verification key is not an ECDSA public key."""


class SendError(Exception):
    """Sending failed; `retryable` says whether the same request may succeed later."""

    retryable = False

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PermanentSendError(SendError):
    """SendGrid refused the message (4xx other than 429): retrying the same request cannot help."""


class TransientSendError(SendError):
    """Rate limit, server error, timeout or lost connection: retry, after `retry_after` if set."""

    retryable = True

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


@dataclass
class OutgoingMessage:
    """One rendered email for one recipient. `message_id` is our uuid, sent as a custom arg."""

    message_id: str
    to_email: str
    from_email: str
    subject: str
    html: str
    text: str
    to_name: str = ""
    from_name: str = ""
    reply_to: str | None = None
    categories: list[str] = field(default_factory=list)
    custom_args: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    substitutions: dict[str, str] = field(default_factory=dict)
    send_at: int | None = None


@dataclass(frozen=True)
class SendResult:
    """`provider_message_id` is SendGrid's X-Message-Id (None when the answer has none)."""

    provider_message_id: str | None


def marketing_headers(unsubscribe_url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe headers, required on every marketing mail."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# --- request bodies -----------------------------------------------------------------------------


def _address(email_address: str, name: str = "") -> dict[str, str]:
    return {"email": email_address, "name": name} if name else {"email": email_address}


def _personalization(message: OutgoingMessage) -> dict[str, Any]:
    part: dict[str, Any] = {
        "to": [_address(message.to_email, message.to_name)],
        "subject": message.subject,
        "custom_args": {**message.custom_args, MESSAGE_ID_ARG: message.message_id},
    }
    if message.headers:
        part["headers"] = dict(message.headers)
    if message.substitutions:
        part["substitutions"] = dict(message.substitutions)
    if message.send_at is not None:
        part["send_at"] = message.send_at
    return part


def _content(message: OutgoingMessage) -> list[dict[str, str]]:
    # SendGrid wants text/plain before text/html; empty values are refused, so they are left out.
    parts = [("text/plain", message.text), ("text/html", message.html)]
    return [{"type": kind, "value": value} for kind, value in parts if value]


def request_body(messages: Sequence[OutgoingMessage]) -> dict[str, Any]:
    """One mail/send body for messages that share sender and content (see `batch_key`)."""
    first = messages[0]
    body: dict[str, Any] = {
        "personalizations": [_personalization(m) for m in messages],
        "from": _address(first.from_email, first.from_name),
        "subject": first.subject,
        "content": _content(first),
        # We track opens and clicks ourselves (signed /t/ links), so SendGrid must not rewrite them.
        "tracking_settings": {
            "click_tracking": {"enable": False, "enable_text": False},
            "open_tracking": {"enable": False},
            "subscription_tracking": {"enable": False},
        },
    }
    if first.reply_to:
        body["reply_to"] = _address(first.reply_to)
    if first.categories:
        body["categories"] = list(dict.fromkeys(first.categories))[:10]
    return body


def batch_key(message: OutgoingMessage) -> tuple[Any, ...]:
    """Messages with equal keys can share one request: everything not per-personalization."""
    return (
        message.from_email,
        message.from_name,
        message.reply_to,
        message.html,
        message.text,
        tuple(message.categories),
    )


def group_for_batches(messages: Iterable[OutgoingMessage]) -> Iterator[list[OutgoingMessage]]:
    """Groups by `batch_key`, in first-seen order, each at most MAX_PERSONALIZATIONS long."""
    groups: dict[tuple[Any, ...], list[OutgoingMessage]] = {}
    for message in messages:
        groups.setdefault(batch_key(message), []).append(message)
    for group in groups.values():
        for start in range(0, len(group), MAX_PERSONALIZATIONS):
            yield group[start : start + MAX_PERSONALIZATIONS]


# --- the transport --------------------------------------------------------------------------------


class SendGridTransport:
    """Posts to SendGrid's v3 mail/send (or to Prism playing SendGrid in tests)."""

    def __init__(self, api_key: str, host: str = SENDGRID_HOST, timeout: float = 10.0) -> None:
        self.api_key = api_key
        self.host = host.rstrip("/")
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> SendResult:
        return self._post(request_body([message]))

    def send_batch(self, messages: Iterable[OutgoingMessage]) -> dict[str, SendResult | SendError]:
        """Sends grouped requests; answers, per message id, its result or the error of its group."""
        outcomes: dict[str, SendResult | SendError] = {}
        for group in group_for_batches(messages):
            outcome: SendResult | SendError
            try:
                outcome = self._post(request_body(group))
            except SendError as exc:
                outcome = exc
            outcomes.update((m.message_id, outcome) for m in group)
        return outcomes

    def _post(self, body: dict[str, Any]) -> SendResult:
        client = SendGridAPIClient(api_key=self.api_key, host=self.host)
        try:
            response = client.client.mail.send.post(request_body=body, timeout=self.timeout)
        except http_errors.HTTPError as exc:
            raise _error_from_http(exc) from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransientSendError(f"SendGrid unreachable: {exc!r}") from exc
        return SendResult(provider_message_id=response.headers.get("X-Message-Id"))


def _error_from_http(exc: http_errors.HTTPError) -> SendError:
    status = int(exc.status_code)
    text = f"SendGrid answered {status}: {_provider_error_text(exc.body)}"
    violations = exc.headers.get("sl-violations") if exc.headers is not None else None
    if violations:  # Prism, playing SendGrid in tests, explains its refusals in this header
        text += f" (violations: {violations})"
    if status == 429 or status >= 500:
        return TransientSendError(text, status, _retry_after(exc.headers))
    return PermanentSendError(text, status)


def _provider_error_text(body: bytes | str | None) -> str:
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        errors = json.loads(raw).get("errors") or []
        messages = [f"{e.get('field') or '-'}: {e.get('message')}" for e in errors]
    except (ValueError, AttributeError):
        messages = []
    return "; ".join(messages) or raw.strip() or "(no body)"


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    if (seconds := whole_number(value)) is not None:
        return float(seconds)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


# --- the Event Webhook ----------------------------------------------------------------------------


def _load_public_key(public_key_pem_or_b64: str) -> ec.EllipticCurvePublicKey:
    text = public_key_pem_or_b64.strip()
    try:
        if "BEGIN PUBLIC KEY" in text:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise WebhookKeyError("the Event Webhook verification key is not a public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookKeyError("the Event Webhook verification key is not an ECDSA key")
    return key


def verify_event_webhook(
    public_key_pem_or_b64: str, payload: bytes, signature_b64: str, timestamp: str
) -> bool:
    """True when `signature_b64` is SendGrid's ECDSA P-256/SHA-256 signature of timestamp+payload.

    The key is the one SendGrid shows under Mail Settings > Event Webhook (base64 DER, or PEM).
    A malformed key raises WebhookKeyError (a ValueError): a configuration error, not a bad request.
    """
    key = _load_public_key(public_key_pem_or_b64)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, timestamp.encode("utf-8") + payload, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


WEBHOOK_TOLERANCE_S = 5 * 60  # as Standard Webhooks: a replayed body is refused after 5 minutes


def is_fresh_timestamp(timestamp: str, now: datetime) -> bool:
    """True when the Event Webhook's timestamp header (unix seconds) is within 5 minutes of `now`
    (naive UTC): the signature covers it, so an old body replayed with its signature fails."""
    try:
        moment = int(timestamp.strip())
    except ValueError:
        return False
    return abs(now.replace(tzinfo=UTC).timestamp() - moment) <= WEBHOOK_TOLERANCE_S


EVENT_TYPES = frozenset(
    {
        "processed",
        "delivered",
        "open",
        "click",
        "bounce",
        "dropped",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
        "deferred",
    }
)
_STANDARD_FIELDS = frozenset(
    {
        "email",
        "timestamp",
        "event",
        "sg_event_id",
        "sg_message_id",
        "smtp-id",
        "category",
        "url",
        "url_offset",
        "reason",
        "status",
        "response",
        "attempt",
        "type",
        "useragent",
        "ip",
        "tls",
        "cert_err",
        "asm_group_id",
        "sg_machine_open",
        "bounce_classification",
        "pool",
        "marketing_campaign_id",
        "marketing_campaign_name",
        "send_at",
        "sg_template_id",
        "sg_template_name",
        "sg_content_type",
        "sg_user_id",
    }
)


@dataclass(frozen=True)
class EmailEvent:
    """One Event Webhook entry. `message_id` is ours (custom arg); `url` is set for clicks."""

    event: str
    email: str
    timestamp: datetime
    sg_event_id: str | None
    sg_message_id: str | None
    message_id: str | None
    url: str | None = None
    reason: str | None = None
    bounce_type: str | None = None
    custom_args: dict[str, Any] = field(default_factory=dict)


def parse_events(payload: bytes) -> list[EmailEvent]:
    """The events of a verified webhook body; entries of unknown type are skipped.

    Raises ValueError when the body is not a JSON array of objects.
    """
    entries = json.loads(payload)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("Event Webhook body must be a JSON array of objects")
    return [_event(entry) for entry in entries if entry.get("event") in EVENT_TYPES]


def _event(entry: dict[str, Any]) -> EmailEvent:
    custom = {k: v for k, v in entry.items() if k not in _STANDARD_FIELDS}
    return EmailEvent(
        event=entry["event"],
        email=str(entry.get("email", "")).lower(),
        timestamp=datetime.fromtimestamp(int(entry.get("timestamp", 0)), tz=UTC),
        sg_event_id=entry.get("sg_event_id"),
        sg_message_id=entry.get("sg_message_id"),
        message_id=custom.pop(MESSAGE_ID_ARG, None),
        url=entry.get("url"),
        reason=entry.get("reason") or entry.get("response"),
        bounce_type=entry.get("type") if entry["event"] == "bounce" else None,
        custom_args=custom,
    )
