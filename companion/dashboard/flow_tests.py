"""On a flow's page, beside its settings: each step's subject A/B test (numbers, verdict, "keep
this subject") and, for the scanned flows, the people who qualified before the flow started and the
button that also mails them, spread over days (docs/dashboard.md, "Editing a flow")."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, redirect, request, url_for

from companion.core.numbers import whole_number
from companion.dashboard import auth
from companion.dashboard.blueprint import bp
from companion.dashboard.flow_editor import _page, _step_arg, form_values
from companion.dashboard.pages import site_page
from companion.dashboard.periods import Period
from companion.flows import abtest, backlog, config, reports
from companion.flows.definitions import FLOWS
from companion.models import Site, utcnow

MAX_DAYS = 365


@bp.context_processor
def _extras() -> dict[str, Any]:
    """The flow page's template asks for these (its partials), so the editor's code is unchanged."""
    return {"flow_extras": flow_extras}


def flow_extras(site: Site, key: str) -> dict[str, Any]:
    """What the flow page shows besides the form: A/B tests by step, and the backlog."""
    flow = config.flow_config(site, key)
    report = reports.flow_report(site.id, key)
    tests = []
    for step, figures in zip(flow.steps, report["steps"], strict=True):
        if figures["ab_test"] or abtest.is_testing(step.subject_b):
            tests.append(
                {
                    "step": step.step,
                    "running": abtest.is_testing(step.subject_b),
                    "subjects": {"A": step.subject, "B": step.subject_b},
                    "result": figures["ab_test"],
                }
            )
    waiting = backlog.waiting(site.id, key) if key in backlog.SCANNED_FLOWS else None
    return {
        "ab_tests": tests,
        "ab_min_sends": abtest.MIN_SENDS,
        "backlog_waiting": waiting,
        "backlog_days": _default_days(waiting or 0),
        "flow_enabled": flow.enabled,
    }


def _default_days(waiting: int) -> int:
    return max(1, -(-waiting // backlog.DEFAULT_PER_DAY))


def _back(site: Site, key: str, **notice: Any) -> Any:
    return redirect(
        url_for("dashboard.edit_flow", site_id=site.public_id, flow_key=key, **notice), code=303
    )


@bp.post("/<site_id>/flows/<flow_key>/steps/<step>/keep", endpoint="keep_subject")
@site_page
def keep_subject(site: Site, period: Period, today: date, flow_key: str, step: str) -> Any:
    """Ends a step's A/B test keeping one subject: B becomes the only subject, or B is dropped."""
    auth.check_csrf()
    if flow_key not in FLOWS or step not in {str(n) for n in range(1, 11)}:
        abort(404)
    if int(step) > len(FLOWS[flow_key].delays_hours):
        abort(404)
    number = int(step)
    current = config.flow_config(site, flow_key).step(number)
    try:
        changes = abtest.keep_changes(current.subject, current.subject_b, request.form["variant"])
    except (KeyError, ValueError):
        abort(400)
    if not abtest.is_testing(current.subject_b):
        return _back(site, flow_key)  # already ended (a second click, another tab)
    config.update_flows(site, {"flows": {flow_key: {"steps": [{"step": number, **changes}]}}})
    return _back(site, flow_key, kept=request.form["variant"], kept_step=number)


@bp.post("/<site_id>/flows/<flow_key>/backlog", endpoint="release_backlog")
@site_page
def release_backlog(site: Site, period: Period, today: date, flow_key: str) -> Any:
    """ "Also send to these N people": the held enrolments start, spread over the days chosen."""
    auth.check_csrf()
    if flow_key not in backlog.SCANNED_FLOWS:
        abort(404)
    flow = config.flow_config(site, flow_key)
    days = (request.form.get("days") or "").strip()
    problem = (
        "Switch the flow on first."
        if not flow.enabled
        else None
        if 1 <= (whole_number(days) or 0) <= MAX_DAYS
        else f"A whole number of days from 1 to {MAX_DAYS}."
    )
    if problem:
        values = form_values(config.describe(site, flow_key))
        errors = {"backlog.days": [problem]}
        status = 422 if flow.enabled else 409  # the days to fix, or the flow's state
        return _page(site, period, flow_key, values, errors, _step_arg(flow_key)), status
    waiting = backlog.waiting(site.id, flow_key)
    if not waiting:
        return _back(site, flow_key, released=0)
    per_day = -(-waiting // int(days))
    result = backlog.release(site.id, flow, per_day, utcnow())
    return _back(site, flow_key, released=result["started"], released_days=result["days"])
