"""GET /v1/sites/<id>/segments, /products/<pid>/recommendations, /forecast and /alerts (Bearer
token)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from companion.api.auth import site_for_token
from companion.api.errors import ApiError
from companion.api.schemas.intelligence import (
    AlertsSchema,
    ForecastQuerySchema,
    ForecastSchema,
    RecommendationsSchema,
    SegmentsSchema,
)
from companion.core.days import local_day
from companion.intelligence import alerts, demand, recommendations, segments
from companion.models import utcnow
from companion.models.base import as_aware

bp = Blueprint("intelligence", __name__)
forecast_query = ForecastQuerySchema()


@bp.get("/v1/sites/<site_id>/segments")
def get_segments(site_id: str) -> Any:
    site = site_for_token(site_id)
    data = segments.segment_summary(site.id)
    data.update(refreshed_at=as_aware(data["refreshed_at"]), as_of=as_aware(data["as_of"]))
    return jsonify(SegmentsSchema().dump(data))


@bp.get("/v1/sites/<site_id>/products/<product_id>/recommendations")
def get_recommendations(site_id: str, product_id: str) -> Any:
    site = site_for_token(site_id)
    if not demand.is_known_product(site.id, product_id):
        raise ApiError(404, "No such product on this site.")
    return jsonify(
        RecommendationsSchema().dump(
            {
                "product_id": product_id,
                "bought_together": recommendations.bought_with(site.id, product_id),
                "upsell": recommendations.upsell_candidates(site.id, product_id, limit=5),
            }
        )
    )


@bp.get("/v1/sites/<site_id>/forecast")
def get_forecast(site_id: str) -> Any:
    site = site_for_token(site_id)
    args = forecast_query.load(request.args.to_dict())
    if not demand.is_known_product(site.id, args["product_id"]):
        raise ApiError(404, "No such product on this site.")
    today = local_day(utcnow(), site.timezone)
    return jsonify(
        ForecastSchema().dump(demand.forecast(site, args["product_id"], args["days"], today))
    )


@bp.get("/v1/sites/<site_id>/alerts")
def get_alerts(site_id: str) -> Any:
    site = site_for_token(site_id)
    rows = [
        {
            **a.__data__,
            "detected_at": as_aware(a.detected_at),
            "notified_at": as_aware(a.notified_at),
            "order_ids": a.order_ids or [],
        }
        for a in alerts.open_alerts(site.id)
    ]
    return jsonify(AlertsSchema().dump({"alerts": rows}))
