"""What the flow routes accept and answer: settings, reports, the outbox."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from companion.flows.definitions import FLOWS
from companion.flows.settings_schema import FlowSettingsSchema, StepSettingsSchema
from companion.models.messaging import MESSAGE_STATUSES
from companion.schemas.fields import Money, Timestamp

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class StepOutSchema(StepSettingsSchema):
    default_subject = fields.String()
    active = fields.Boolean()  # sent: switched on, and what it needs (a coupon, a reward) is set
    needs = fields.List(fields.String())  # unset settings it waits for, any one of them
    # needs consent, carries List-Unsubscribe (flows/definitions.py)
    is_marketing = fields.Boolean()


class FlowOutSchema(FlowSettingsSchema):
    key = fields.String()
    title = fields.String()
    trigger = fields.String()
    exits = fields.String()
    is_marketing = fields.Boolean()
    steps = fields.List(fields.Nested(StepOutSchema))


def _clock(value: str) -> None:
    if not _CLOCK.match(value):
        raise ValidationError("Use 24-hour HH:MM, such as 21:00.")


class QuietHoursSchema(Schema):
    start = fields.String(required=True, validate=_clock, metadata={"pattern": _CLOCK.pattern})
    end = fields.String(required=True, validate=_clock, metadata={"pattern": _CLOCK.pattern})


class FrequencyCapSchema(Schema):
    max_messages = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=100)
    )
    per_hours = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=24 * 30)
    )


class SiteFlowSettingsSchema(Schema):
    """Settings every flow of the site shares."""

    from_email = fields.Email(allow_none=True)
    from_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    reply_to = fields.Email(allow_none=True)
    unknown_consent = fields.String(validate=validate.OneOf(("allow", "deny")))
    frequency_cap = fields.Nested(FrequencyCapSchema, allow_none=True)
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    win_back_after_days = fields.Integer(strict=True, validate=validate.Range(min=7, max=730))
    vip_min_orders = fields.Integer(strict=True, validate=validate.Range(min=2, max=1000))
    recent_trigger_hours = fields.Integer(strict=True, validate=validate.Range(min=1, max=24 * 30))
    smart_sending_hours = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=24 * 30)
    )
    postal_address = fields.String(allow_none=True, validate=validate.Length(max=300))


class FlowsUpdateSchema(Schema):
    settings = fields.Nested(SiteFlowSettingsSchema)
    flows = fields.Dict(
        keys=fields.String(validate=validate.OneOf(list(FLOWS))),
        values=fields.Nested(FlowSettingsSchema),
    )


class FlowsSchema(Schema):
    settings = fields.Nested(SiteFlowSettingsSchema)
    flows = fields.List(fields.Nested(FlowOutSchema))


class PreviewSchema(Schema):
    """POST /flows/<key>/preview: no email, a sample contact of the store."""

    email = fields.Email(load_default=None, allow_none=True)
    step = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10))
    # a step testing two subjects: which one to show (B needs the step's subject_b)
    variant = fields.String(load_default="A", validate=validate.OneOf(("A", "B")))


class TestSendSchema(PreviewSchema):
    """POST /flows/<key>/test: the step as `email` would get it, sent to `to`."""

    to = fields.Email(required=True)


class RenderedSchema(Schema):
    subject = fields.String()
    html = fields.String()
    text = fields.String()
    # null for a customer's mail; why the values are made up when no customer fits the flow yet
    sample_values = fields.String(allow_none=True)


class TestSentSchema(Schema):
    to = fields.String()
    subject = fields.String()
    provider_id = fields.String(allow_none=True)
    # as the preview's: why the mail sent holds made-up values, null for a customer's mail
    sample_values = fields.String(allow_none=True)


class ReportQuerySchema(Schema):
    start = Timestamp(data_key="from")
    end = Timestamp(data_key="to")


class CouponFiguresSchema(Schema):
    """Single-use coupons of a step (flows/reports.py coupon_figures)."""

    issued = fields.Integer()
    redeemed = fields.Integer()  # used by a counted order
    redemption_rate = fields.Float(allow_none=True)  # redeemed / issued
    discount = Money()
    revenue = Money(allow_negative=True)  # those orders' totals net of refunds


class VariantFiguresSchema(Schema):
    variant = fields.String()
    sent = fields.Integer()
    clicked = fields.Integer()  # contacts who clicked
    click_rate = fields.Float(allow_none=True)
    orders = fields.Integer()
    revenue = Money(allow_negative=True)
    revenue_per_recipient = Money(allow_negative=True, allow_none=True)


class AbTestSchema(Schema):
    """A step's subject A/B test in the period (flows/abtest.py has the winner rule)."""

    variants = fields.List(fields.Nested(VariantFiguresSchema))
    leader = fields.String(allow_none=True)
    winner = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    z = fields.Float()
    reason = fields.String()


class ReportStepSchema(Schema):
    step = fields.Integer()
    sent = fields.Integer()
    outbox = fields.Integer()
    failed = fields.Integer()
    uncertain = fields.Integer()
    delivered = fields.Integer()
    opened = fields.Integer()
    clicked = fields.Integer()
    unsubscribed = fields.Integer()
    bounced = fields.Integer()
    complained = fields.Integer()
    orders = fields.Integer()
    revenue = Money(allow_negative=True)
    skipped = fields.Integer()
    skip_reasons = fields.Dict(keys=fields.String(), values=fields.Integer())
    coupons = fields.Nested(CouponFiguresSchema)
    ab_test = fields.Nested(AbTestSchema, allow_none=True)


class ReportSchema(ReportStepSchema):
    flow = fields.String()
    start = fields.AwareDateTime(data_key="from", allow_none=True)
    end = fields.AwareDateTime(data_key="to", allow_none=True)
    enrolled = fields.Integer()
    active = fields.Integer()
    completed = fields.Integer()
    exited = fields.Integer()
    recovered_carts = fields.Integer()
    recovered_revenue = Money(allow_negative=True)
    steps = fields.List(fields.Nested(ReportStepSchema))

    class Meta:
        exclude = ("step", "ab_test")


class OutboxQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    flow = fields.String(validate=validate.OneOf(list(FLOWS)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MessageSummarySchema(Schema):
    id = fields.String(attribute="uuid")
    flow = fields.String(attribute="flow_key")
    step = fields.Integer(allow_none=True)
    to_email = fields.String()
    subject = fields.String()
    status = fields.String()
    provider_id = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    opened_at = fields.AwareDateTime(allow_none=True)
    clicked_at = fields.AwareDateTime(allow_none=True)
    unsubscribed_at = fields.AwareDateTime(allow_none=True)


class MessagePageSchema(Schema):
    messages = fields.List(fields.Nested(MessageSummarySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class MessageDetailSchema(MessageSummarySchema):
    from_email = fields.String()
    from_name = fields.String(allow_none=True)
    reply_to = fields.String(allow_none=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String())
    links = fields.List(fields.String())
    html = fields.String()
    text = fields.String()


class EventWebhookAnswerSchema(Schema):
    applied = fields.Integer()
    ignored = fields.Integer()


def load_json_object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ValidationError({"_schema": ["Send a JSON object."]})
    return payload


# --- OpenAPI: the routes of api/flows.py and api/tracking.py (registered in api/openapi.py) -------

_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_BEARER: list[dict[str, list[str]]] = [{"ApiToken": []}]


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _ok(schema: str) -> dict[str, Any]:
    return {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _site(
    summary: str, answer: str, *params: dict[str, Any], body: str | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": _BEARER,
        "parameters": [_path("site_id"), *params],
        "responses": {"200": _ok(answer), "401": _ERROR, "404": _ERROR, "422": _ERROR},
    }
    if body:
        operation["requestBody"] = {
            "required": True,  # no body is 422 "Send a JSON object."
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
        operation["responses"]["400"] = (
            _ERROR  # a body that is not JSON, or nested too deeply to read
        )
    return operation


_KEY = _path("key")
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "/v1/sites/{site_id}/flows",
        "get",
        _site("All flows with their settings, and the settings they share", "Flows"),
    ),
    (
        "/v1/sites/{site_id}/flows",
        "put",
        _site(
            "Change shared settings and any flows (only the fields sent)",
            "Flows",
            body="FlowsUpdate",
        ),
    ),
    ("/v1/sites/{site_id}/flows/{key}", "get", _site("One flow's settings", "FlowOut", _KEY)),
    (
        "/v1/sites/{site_id}/flows/{key}",
        "put",
        _site("Change one flow (only the fields sent)", "FlowOut", _KEY, body="FlowSettings"),
    ),
    (
        "/v1/sites/{site_id}/flows/{key}/preview",
        "post",
        _site(
            "One step rendered as it would be sent to this contact now (no email: a sample contact "
            "of the "
            "store); links untracked, nothing recorded",
            "Rendered",
            _KEY,
            body="Preview",
        ),
    ),
    (
        "/v1/sites/{site_id}/flows/{key}/test",
        "post",
        {
            **_site(
                "Send one step to an address through SendGrid as a test ('[Test] ' subject, "
                "category "
                "sales-companion-test), counted nowhere",
                "TestSent",
                _KEY,
                body="TestSend",
            ),
            "responses": {
                "202": _ok("TestSent"),
                "401": _ERROR,
                "404": _ERROR,
                "422": _ERROR,
                "409": {
                    "description": "No SendGrid key (outbox mode)",
                    "content": _ERROR["content"],
                },
                "502": {
                    "description": "SendGrid refused or could not be reached",
                    "content": _ERROR["content"],
                },
            },
        },
    ),
    (
        "/v1/sites/{site_id}/flows/{key}/report",
        "get",
        _site(
            "Enrolled, sent, delivered, opened, clicked, unsubscribed, orders and revenue per step",
            "Report",
            _KEY,
            {"in": "query", "schema": ReportQuerySchema},
        ),
    ),
    (
        "/v1/sites/{site_id}/outbox",
        "get",
        _site(
            "Messages, newest first (in outbox mode: rendered, not sent)",
            "MessagePage",
            {"in": "query", "schema": OutboxQuerySchema},
        ),
    ),
    (
        "/v1/sites/{site_id}/outbox/{message_id}",
        "get",
        _site("One message as its recipient sees it", "MessageDetail", _path("message_id")),
    ),
    (
        "/t/o/{token}.gif",
        "get",
        {
            "summary": "Open pixel (records an open)",
            "parameters": [_path("token")],
            "responses": {"200": {"description": "A 1x1 GIF", "content": {"image/gif": {}}}},
        },
    ),
    (
        "/t/c/{token}",
        "get",
        {
            "summary": "Tracked click: redirects to the recorded URL with UTM parameters",
            "parameters": [_path("token")],
            "responses": {"302": {"description": "Redirect"}, "404": _ERROR},
        },
    ),
    (
        "/u/{token}",
        "get",
        {
            "summary": "Unsubscribe page with a confirmation button",
            "parameters": [_path("token")],
            "responses": {"200": {"description": "HTML page"}, "404": {"description": "HTML page"}},
        },
    ),
    (
        "/u/{token}",
        "post",
        {
            "summary": "One-click unsubscribe (RFC 8058 List-Unsubscribe-Post)",
            "parameters": [_path("token")],
            "responses": {"200": {"description": "HTML page"}, "404": {"description": "HTML page"}},
        },
    ),
    (
        "/v1/sendgrid/events",
        "post",
        {
            "summary": "SendGrid Event Webhook, ECDSA-signed "
            "(X-Twilio-Email-Event-Webhook-Signature)",
            "requestBody": {
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
                }
            },
            "responses": {
                "200": _ok("EventWebhookAnswer"),
                "400": _ERROR,
                "401": _ERROR,
                "503": {
                    "description": "COMPANION_SENDGRID_WEBHOOK_PUBLIC_KEY not set",
                    "content": _ERROR["content"],
                },
            },
        },
    ),
]

SCHEMAS: dict[str, Any] = {
    "Flows": FlowsSchema,
    "FlowsUpdate": FlowsUpdateSchema,
    "FlowOut": FlowOutSchema,
    "FlowSettings": FlowSettingsSchema,
    "CouponFigures": CouponFiguresSchema,
    "Report": ReportSchema,
    "MessagePage": MessagePageSchema,
    "MessageDetail": MessageDetailSchema,
    "EventWebhookAnswer": EventWebhookAnswerSchema,
    "Preview": PreviewSchema,
    "TestSend": TestSendSchema,
    "Rendered": RenderedSchema,
    "TestSent": TestSentSchema,
}
