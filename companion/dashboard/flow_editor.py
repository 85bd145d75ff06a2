"""Editing one flow without JSON: a form per flow and step, checked by the API's own schema and
template check, with the step's preview beside it (docs/dashboard.md, "Editing a flow")."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from markupsafe import escape
from marshmallow import ValidationError

from companion.core import runtime
from companion.core.numbers import whole_number
from companion.dashboard import auth
from companion.dashboard.blueprint import bp
from companion.dashboard.pages import NAV, site_page
from companion.dashboard.periods import PRESETS, Period
from companion.email.rendering import FLOW_CONTEXT, RenderedEmail
from companion.flows import config, preview
from companion.flows.definitions import FLOWS
from companion.flows.settings_schema import FlowSettingsSchema
from companion.models import Site, utcnow

STEP_TEXT = ("subject", "intro", "outro", "subject_b")
settings_schema = FlowSettingsSchema()
# The preview is the mail's own HTML (inline styles, remote images) in a frame of this page only.
PREVIEW_POLICY = (
    "default-src 'none'; img-src http: https: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _flow(key: str) -> str:
    if key not in FLOWS:
        abort(404)
    return key


def has_coupon(key: str) -> bool:
    return "coupon" in FLOW_CONTEXT[key]


def has_reward(key: str) -> bool:
    return "reward" in FLOW_CONTEXT[key]


# --- form <-> the API's input ---------------------------------------------------------------------


def _text(form: Any, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def form_input(key: str, form: Any) -> dict[str, Any]:
    """The form as the API's `PUT /flows/<key>` body: empty text means the default (null)."""
    data: dict[str, Any] = {"enabled": form.get("enabled") == "on", "steps": []}
    conditions = FLOWS[key].conditions
    if conditions:
        data["conditions"] = {}
        if "min_value" in conditions:
            data["conditions"]["min_value"] = _text(form, "conditions.min_value")
        if "first_order_only" in conditions:
            data["conditions"]["first_order_only"] = form.get("conditions.first_order_only") == "on"
    if has_coupon(key):
        data["coupon"] = coupon_input(form)
    if has_reward(key):
        reward = {name: _text(form, f"reward.{name}") for name in ("title", "description", "code")}
        data["reward"] = reward if any(reward.values()) else None
        data["early_access_url"] = _text(form, "early_access_url")
    for index in range(len(FLOWS[key].delays_hours)):
        prefix = f"steps.{index}."
        step: dict[str, Any] = {
            "step": index + 1,
            "enabled": form.get(prefix + "enabled") == "on",
            "delay_hours": (form.get(prefix + "delay_hours") or "").strip(),
        }
        step.update({name: _text(form, prefix + name) for name in STEP_TEXT})
        data["steps"].append(step)
    return data


COUPON_TEXT = ("discount_type", "amount", "minimum_amount", "prefix")


def coupon_input(form: Any) -> dict[str, Any] | None:
    """None (no coupon), one static code, or a unique-code template (flows/coupons.py)."""
    kind = form.get("coupon.kind") or ("static" if _text(form, "coupon.code") else "none")
    description = _text(form, "coupon.description")
    if kind == "static":
        code = _text(form, "coupon.code")
        return {"kind": "static", "code": code, "description": description} if code else None
    if kind != "unique":
        return None
    coupon: dict[str, Any] = {"kind": "unique", "description": description}
    coupon.update({name: _text(form, f"coupon.{name}") for name in COUPON_TEXT})
    days = _text(form, "coupon.days_valid")
    number = whole_number(days)
    coupon["days_valid"] = days if number is None else number
    coupon["individual_use"] = form.get("coupon.individual_use") == "on"
    return {k: v for k, v in coupon.items() if v is not None or k == "minimum_amount"}


def checked(key: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validated as the API validates (schema, then each template rendered for its step);
    raises ValidationError with the API's field messages."""
    loaded = settings_schema.load(data)
    problems = config.template_problems(key, loaded)
    if problems:
        raise ValidationError(problems)
    return loaded


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"steps.0.subject": [...]}, the form's field names."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_form": messages}
    flat: dict[str, list[str]] = {}
    items = messages.items() if isinstance(messages, dict) else enumerate(messages)
    for name, value in items:
        flat.update(flatten(value, f"{prefix}.{name}" if prefix else str(name)))
    return flat


def form_values(described: dict[str, Any]) -> dict[str, Any]:
    """A flow as `config.describe` shows it, under the form's field names."""
    values: dict[str, Any] = {"enabled": described["enabled"]}
    for name, value in (described.get("conditions") or {}).items():
        values[f"conditions.{name}"] = value
    for group in ("coupon", "reward"):
        for name, value in (described.get(group) or {}).items():
            values[f"{group}.{name}"] = value
    coupon = described.get("coupon")
    values["coupon.kind"] = (coupon or {}).get("kind", "static") if coupon else "none"
    if not coupon or coupon.get("kind") != "unique":  # what a new template starts from
        values.update({"coupon.discount_type": "percent", "coupon.individual_use": True})
    values["early_access_url"] = described.get("early_access_url")
    for index, step in enumerate(described["steps"]):
        for name in ("enabled", "delay_hours", *STEP_TEXT):
            values[f"steps.{index}.{name}"] = step[name]
        hours = step["delay_hours"]
        values[f"steps.{index}.delay_hours"] = int(hours) if float(hours).is_integer() else hours
    return values


def submitted_values(key: str, form: Any) -> dict[str, Any]:
    """What the owner typed, to show again next to the messages of a refused form."""
    values: dict[str, Any] = {name: form.get(name) for name in form}
    for name in (
        "enabled",
        "conditions.first_order_only",
        "coupon.individual_use",
        *(f"steps.{i}.enabled" for i in range(len(FLOWS[key].delays_hours))),
    ):
        values[name] = form.get(name) == "on"
    return values


# --- pages ----------------------------------------------------------------------------------------


def _page(
    site: Site,
    period: Period,
    key: str,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    step: int,
    saved: bool = False,
) -> str:
    described = config.describe(site, key)
    return render_template(
        "dashboard/flow_edit.html",
        site=site,
        period=period,
        presets=PRESETS,
        nav=NAV,
        page="flows",
        show_range=False,
        flow=described,
        definition=FLOWS[key],
        values=values,
        errors=errors,
        preview_step=step,
        saved=saved,
        has_coupon=has_coupon(key),
        has_reward=has_reward(key),
        postal_address=config.site_config(site).get("postal_address"),
    )


def _step_arg(key: str) -> int:
    step = request.values.get("preview_step", request.args.get("step", "1"))
    number = whole_number(step) or 1
    return number if 1 <= number <= len(FLOWS[key].delays_hours) else 1


@bp.get("/<site_id>/flows/<flow_key>/edit", endpoint="edit_flow")
@site_page
def edit_flow(site: Site, period: Period, today: date, flow_key: str) -> Any:
    key = _flow(flow_key)
    values = form_values(config.describe(site, key))
    return _page(
        site, period, key, values, {}, _step_arg(key), saved=request.args.get("saved") == "1"
    )


@bp.post("/<site_id>/flows/<flow_key>/edit", endpoint="save_flow")
@site_page
def save_flow(site: Site, period: Period, today: date, flow_key: str) -> Any:
    auth.check_csrf()
    key = _flow(flow_key)
    try:
        config.update_flows(site, {"flows": {key: checked(key, form_input(key, request.form))}})
    except ValidationError as exc:
        errors = flatten(exc.messages)
        return _page(
            site, period, key, submitted_values(key, request.form), errors, _step_arg(key)
        ), 422
    return redirect(
        url_for(
            "dashboard.edit_flow",
            site_id=site.public_id,
            flow_key=key,
            saved="1",
            step=_step_arg(key),
        ),
        code=303,
    )


def _preview_document(rendered: RenderedEmail) -> str:
    """The mail's HTML with its subject above and its text version below, for the preview frame."""
    head = (
        f'<div style="font:14px/1.4 system-ui,sans-serif;padding:8px 12px;background:#eef2f7;'
        f'border-bottom:1px solid #d1d5db"><strong>Subject:</strong> <span id="subject">'
        f"{escape(rendered.subject)}</span></div>"
    )
    if rendered.sample_values:  # made-up names and products: say so above them
        head += (
            '<p id="sample-values" style="font:13px/1.4 system-ui,sans-serif;margin:0;'
            'padding:6px 12px;background:#fef3c7;border-bottom:1px solid #fcd34d">'
            f"{escape(rendered.sample_values)}</p>"
        )
    tail = (
        '<details style="font:13px/1.4 system-ui,sans-serif;padding:8px 12px"><summary>Plain-text '
        "version"
        f'</summary><pre style="white-space:pre-wrap">{escape(rendered.text)}</pre></details>'
    )
    html = rendered.html
    at = html.find(">", html.lower().find("<body")) + 1 if "<body" in html.lower() else 0
    html = html[:at] + head + html[at:]
    end = html.lower().rfind("</body>")
    return html[:end] + tail + html[end:] if end >= 0 else html + tail


def _preview_answer(body: str, status: int = 200) -> Response:
    answer = Response(body, status=status, mimetype="text/html")
    answer.headers["Content-Security-Policy"] = PREVIEW_POLICY
    answer.headers["X-Frame-Options"] = "SAMEORIGIN"
    return answer


def _problems_document(errors: dict[str, list[str]]) -> str:
    items = "".join(
        f"<li><strong>{escape(name)}</strong>: {escape(' '.join(messages))}</li>"
        for name, messages in errors.items()
    )
    return (
        '<div style="font:14px/1.4 system-ui,sans-serif;padding:12px;color:#b91c1c"><p>This step '
        "cannot be "
        f"previewed until these are fixed:</p><ul>{items}</ul></div>"
    )


def _render(site: Site, key: str, step: int, draft: dict[str, Any] | None) -> Response:
    variant = "B" if request.values.get("preview_variant") == "B" else "A"  # subject A/B test
    try:
        rendered = preview.render_step(
            site, key, step, None, utcnow(), runtime.settings().public_url, draft, variant
        )
    except preview.PreviewError as exc:
        return _preview_answer(_problems_document(flatten(exc.fields)), 422)
    return _preview_answer(_preview_document(rendered))


@bp.get("/<site_id>/flows/<flow_key>/preview", endpoint="flow_preview")
@site_page
def flow_preview(site: Site, period: Period, today: date, flow_key: str) -> Any:
    key = _flow(flow_key)
    return _render(site, key, _step_arg(key), None)


@bp.post("/<site_id>/flows/<flow_key>/preview", endpoint="flow_draft_preview")
@site_page
def flow_draft_preview(site: Site, period: Period, today: date, flow_key: str) -> Any:
    """The form's unsaved values, previewed in the frame beside it; nothing is saved."""
    auth.check_csrf()
    key = _flow(flow_key)
    try:
        draft = config.flow_changes(key, checked(key, form_input(key, request.form)))
    except ValidationError as exc:
        return _preview_answer(_problems_document(flatten(exc.messages)), 422)
    return _render(site, key, _step_arg(key), draft)
