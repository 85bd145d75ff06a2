"""Flow settings, reports and the outbox: /v1/sites/<id>/flows..., /v1/sites/<id>/outbox..."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from companion.api.auth import site_for_token
from companion.api.errors import ApiError, json_body
from companion.api.schemas import flows as schemas
from companion.email.sendgrid import SendError
from companion.flows import config, preview, reports
from companion.flows.definitions import is_flow
from companion.flows.sending import transport_for
from companion.models import Contact, Site, utcnow
from companion.profiles import find_contact

bp = Blueprint("flows", __name__)
flows_schema, flow_schema = schemas.FlowsSchema(), schemas.FlowOutSchema()
update_schema, flow_update_schema = schemas.FlowsUpdateSchema(), schemas.FlowSettingsSchema()
report_query, report_schema = schemas.ReportQuerySchema(), schemas.ReportSchema()
preview_schema, test_schema = schemas.PreviewSchema(), schemas.TestSendSchema()
rendered_schema, test_sent_schema = schemas.RenderedSchema(), schemas.TestSentSchema()
outbox_query, page_schema, detail_schema = (
    schemas.OutboxQuerySchema(),
    schemas.MessagePageSchema(),
    schemas.MessageDetailSchema(),
)


def _flow_key(key: str) -> str:
    if not is_flow(key):
        raise ApiError(404, "No such flow.", flows=list(config.FLOWS))
    return key


def _body() -> dict[str, Any]:
    return schemas.load_json_object(json_body())


def _save(site: Site, data: dict[str, Any], key: str | None = None) -> None:
    """`key`: one flow's PUT, whose body is that flow's settings, so its errors are named from
    there."""
    try:
        config.update_flows(site, data)
    except config.InvalidSettings as exc:
        fields = exc.fields["flows"][key] if key is not None else exc.fields
        raise ApiError(422, "Invalid request.", fields=fields) from None
    except ValueError as exc:
        raise ApiError(422, "Invalid request.", fields={"steps": [str(exc)]}) from None


@bp.get("/v1/sites/<site_id>/flows")
def list_flows(site_id: str) -> Any:
    return jsonify(flows_schema.dump(config.describe_all(site_for_token(site_id))))


@bp.put("/v1/sites/<site_id>/flows")
def update_flows(site_id: str) -> Any:
    site = site_for_token(site_id)
    _save(site, update_schema.load(_body()))
    return jsonify(flows_schema.dump(config.describe_all(site)))


@bp.get("/v1/sites/<site_id>/flows/<key>")
def get_flow(site_id: str, key: str) -> Any:
    site = site_for_token(site_id)
    return jsonify(flow_schema.dump(config.describe(site, _flow_key(key))))


@bp.put("/v1/sites/<site_id>/flows/<key>")
def update_flow(site_id: str, key: str) -> Any:
    site = site_for_token(site_id)
    _save(site, {"flows": {_flow_key(key): flow_update_schema.load(_body())}}, key)
    return jsonify(flow_schema.dump(config.describe(site, key)))


def _contact(site: Site, email: str | None) -> Contact | None:
    if email is None:
        return None
    contact = find_contact(site.id, email)
    if contact is None:
        raise ApiError(404, "No such contact on this site.")
    return contact


@bp.post("/v1/sites/<site_id>/flows/<key>/preview")
def preview_step(site_id: str, key: str) -> Any:
    site = site_for_token(site_id)
    key, args = _flow_key(key), preview_schema.load(_body())
    settings = current_app.config["COMPANION_SETTINGS"]
    try:
        rendered = preview.render_step(
            site,
            key,
            args["step"],
            _contact(site, args["email"]),
            utcnow(),
            settings.public_url,
            variant=args["variant"],
        )
    except preview.PreviewError as exc:
        raise ApiError(422, "Invalid request.", fields=exc.fields) from None
    return jsonify(rendered_schema.dump(rendered))


@bp.post("/v1/sites/<site_id>/flows/<key>/test")
def test_send(site_id: str, key: str) -> Any:
    site = site_for_token(site_id)
    key, args = _flow_key(key), test_schema.load(_body())
    settings = current_app.config["COMPANION_SETTINGS"]
    transport = transport_for(settings)
    if transport is None:
        raise ApiError(
            409,
            "No SendGrid key is configured (outbox mode): nothing can be sent, not even a test.",
        )
    contact = _contact(site, args["email"])
    try:
        rendered = preview.render_step(
            site, key, args["step"], contact, utcnow(), settings.public_url, variant=args["variant"]
        )
        result = transport.send(preview.test_message(site, key, args["step"], args["to"], rendered))
    except preview.PreviewError as exc:
        raise ApiError(422, "Invalid request.", fields=exc.fields) from None
    except SendError as exc:
        raise ApiError(
            502, f"SendGrid did not take the test mail: {exc}", retryable=exc.retryable
        ) from None
    return jsonify(
        test_sent_schema.dump(
            {
                "to": args["to"],
                "subject": preview.TEST_PREFIX + rendered.subject,
                "provider_id": result.provider_message_id,
                "sample_values": rendered.sample_values,
            }
        )
    ), 202


@bp.get("/v1/sites/<site_id>/flows/<key>/report")
def flow_report(site_id: str, key: str) -> Any:
    site = site_for_token(site_id)
    period = report_query.load(request.args.to_dict())
    return jsonify(report_schema.dump(reports.flow_report(site.id, _flow_key(key), **period)))


@bp.get("/v1/sites/<site_id>/outbox")
def list_messages(site_id: str) -> Any:
    site = site_for_token(site_id)
    args = outbox_query.load(request.args.to_dict())
    rows, total = reports.list_messages(
        site.id, args.get("status"), args.get("flow"), args["page"], args["per_page"]
    )
    return jsonify(
        page_schema.dump(
            {"messages": rows, "page": args["page"], "per_page": args["per_page"], "total": total}
        )
    )


@bp.get("/v1/sites/<site_id>/outbox/<message_id>")
def get_message(site_id: str, message_id: str) -> Any:
    site = site_for_token(site_id)
    message = reports.message_detail(site.id, message_id)
    if message is None:
        raise ApiError(404, "No such message on this site.")
    return jsonify(detail_schema.dump(message))
