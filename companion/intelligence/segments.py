"""Counts and revenue per RFM segment and per lifecycle stage (two GROUP BYs over contacts)."""

from __future__ import annotations

from typing import Any

from peewee import fn

from companion.intelligence.maths.lifecycle import STAGES
from companion.intelligence.maths.rfm import OTHERS, RFM_SEGMENTS
from companion.models import Contact
from companion.models.base import money_from_units
from companion.models.intelligence import RefreshRun

SEGMENTS = [rule.name for rule in RFM_SEGMENTS] + [OTHERS]


def _groups(site_id: int, column: Any, names: list[str]) -> list[dict[str, Any]]:
    rows = {
        key: (n, gross, refunded)
        for key, n, gross, refunded in Contact.select(
            column,
            fn.COUNT(Contact.id),
            fn.SUM(Contact.total_spent).coerce(False),
            fn.SUM(Contact.refunded).coerce(False),
        )
        .where(Contact.site == site_id, column.is_null(False))
        .group_by(column)
        .tuples()
    }
    total = sum(n for n, _, _ in rows.values()) or 1
    out = []
    for name in names + sorted(set(rows) - set(names)):
        n, gross, refunded = rows.get(name, (0, 0, 0))
        out.append(
            {
                "name": name,
                "customers": int(n),
                "share": int(n) / total,
                "revenue": money_from_units(int(gross or 0) - int(refunded or 0)),
            }
        )
    return out


def segment_summary(site_id: int) -> dict[str, Any]:
    """Every segment and stage (zero when empty), net revenue to date, and the last refresh (which
    wrote them)."""
    run = (
        RefreshRun.select().where(RefreshRun.site == site_id).order_by(RefreshRun.id.desc()).first()
    )
    return {
        "segments": _groups(site_id, Contact.rfm_segment, SEGMENTS),
        "stages": _groups(site_id, Contact.stage, list(STAGES)),
        "refreshed_at": run.finished_at if run else None,
        "as_of": run.as_of if run else None,
        "predictions": None if run is None else run.gate_met,
        "predictions_reason": (
            "No intelligence refresh has run yet."
            if run is None
            else None
            if run.gate_met
            else run.gate_reason
        ),
    }
