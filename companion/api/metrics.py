"""GET /v1/sites/<id>/metrics, /metrics/series, /metrics/breakdown and /cohorts (Bearer token)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from companion import metrics
from companion.api.auth import site_for_token
from companion.api.schemas.metrics import (
    BreakdownQuerySchema,
    BreakdownSchema,
    CohortsQuerySchema,
    CohortsSchema,
    MetricsQuerySchema,
    MetricsSchema,
    SeriesQuerySchema,
    SeriesSchema,
)

bp = Blueprint("metrics", __name__)


def _args(schema: Any) -> dict[str, Any]:
    return schema.load(request.args.to_dict())


@bp.get("/v1/sites/<site_id>/metrics")
def get_metrics(site_id: str) -> Any:
    site = site_for_token(site_id)
    args = _args(MetricsQuerySchema())
    answer = metrics.headline(
        site,
        args["from_"],
        args["to"],
        compare=args.get("compare") == "previous",
        currency=args.get("currency"),
    )
    return jsonify(MetricsSchema().dump(answer))


@bp.get("/v1/sites/<site_id>/metrics/series")
def get_series(site_id: str) -> Any:
    site = site_for_token(site_id)
    args = _args(SeriesQuerySchema())
    answer = metrics.series(
        site,
        args["metric"],
        args["interval"],
        args["from_"],
        args["to"],
        currency=args.get("currency"),
    )
    return jsonify(SeriesSchema().dump(answer))


@bp.get("/v1/sites/<site_id>/metrics/breakdown")
def get_breakdown(site_id: str) -> Any:
    site = site_for_token(site_id)
    args = _args(BreakdownQuerySchema())
    answer = metrics.breakdown(
        site,
        args["by"],
        args["from_"],
        args["to"],
        currency=args.get("currency"),
        limit=args["limit"],
    )
    return jsonify(BreakdownSchema().dump(answer))


@bp.get("/v1/sites/<site_id>/cohorts")
def get_cohorts(site_id: str) -> Any:
    site = site_for_token(site_id)
    args = _args(CohortsQuerySchema())
    return jsonify(
        CohortsSchema().dump(metrics.cohorts(site, args["interval"], currency=args.get("currency")))
    )
