"""What the intelligence routes accept and answer: segments, recommendations, forecast, alerts."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from companion.schemas.fields import Money


class EmptyQuerySchema(Schema):
    pass


class GroupSchema(Schema):
    name = fields.String()
    customers = fields.Integer()
    share = fields.Float(
        metadata={"description": "Share of the contacts that have a segment (or stage)."}
    )
    revenue = Money(
        allow_negative=True, metadata={"description": "Net revenue (spent - refunded) to date."}
    )


class SegmentsSchema(Schema):
    segments = fields.List(
        fields.Nested(GroupSchema), metadata={"description": "rfm 0.3 segments, in rule order"}
    )
    stages = fields.List(fields.Nested(GroupSchema))
    refreshed_at = fields.AwareDateTime(allow_none=True, default_timezone=None)
    as_of = fields.AwareDateTime(
        allow_none=True,
        default_timezone=None,
        metadata={"description": "What the scores were computed as of."},
    )
    predictions = fields.Boolean(
        allow_none=True, metadata={"description": "Whether predictions were made."}
    )
    predictions_reason = fields.String(allow_none=True)


class ProductSchema(Schema):
    product_id = fields.String()
    name = fields.String(allow_none=True)
    price = Money(allow_none=True)
    url = fields.String(allow_none=True)
    image = fields.String(allow_none=True)
    categories = fields.List(fields.String())


class PairSchema(ProductSchema):
    orders = fields.Integer(metadata={"description": "Orders with both products."})
    support = fields.Float()
    confidence = fields.Float(
        metadata={"description": "Share of this product's orders that had the partner."}
    )
    lift = fields.Float()


class UpsellSchema(ProductSchema):
    buyers = fields.Integer(
        metadata={"description": "Customers who bought this product and that one."}
    )


class RecommendationsSchema(Schema):
    product_id = fields.String()
    bought_together = fields.List(fields.Nested(PairSchema))
    upsell = fields.List(fields.Nested(UpsellSchema))


class ForecastQuerySchema(Schema):
    product_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    days = fields.Integer(load_default=14, validate=validate.Range(min=1, max=90))


class ForecastDaySchema(Schema):
    date = fields.String()
    units = fields.Float()
    lower = fields.Float()
    upper = fields.Float()


class BacktestSchema(Schema):
    mase = fields.Float(allow_none=True)
    wape = fields.Float(allow_none=True)


class ForecastSchema(Schema):
    product_id = fields.String()
    method = fields.String(metadata={"enum": ["ets", "seasonal_naive"]})
    level = fields.Float(metadata={"description": "Coverage of the interval lower..upper."})
    history_days = fields.Integer()
    history_units = fields.Float()
    backtest = fields.Dict(keys=fields.String(), values=fields.Nested(BacktestSchema))
    days = fields.List(fields.Nested(ForecastDaySchema))
    stock_quantity = fields.Integer(allow_none=True)
    days_of_stock = fields.Float(
        allow_none=True,
        metadata={"description": "null: stock not tracked, or it lasts beyond the forecast."},
    )
    days_of_stock_reason = fields.String(allow_none=True)


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String(
        metadata={
            "enum": [
                "revenue_drop",
                "conversion_drop",
                "refund_spike",
                "product_refund_spike",
                "stalled_product",
            ]
        }
    )
    title = fields.String()
    detail = fields.String()
    started_on = fields.Date()
    baseline = fields.Float(allow_none=True)
    observed = fields.Float(allow_none=True)
    relative_change = fields.Float(allow_none=True)
    product_id = fields.String(allow_none=True)
    order_ids = fields.List(fields.Integer())
    detected_at = fields.AwareDateTime(default_timezone=None)
    notified_at = fields.AwareDateTime(allow_none=True, default_timezone=None)


class AlertsSchema(Schema):
    alerts = fields.List(fields.Nested(AlertSchema))


_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_SITE = {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _route(
    path: str,
    summary: str,
    answer: str,
    query: type[Schema] | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> tuple[str, str, dict[str, Any]]:
    params: list[dict[str, Any]] = [_SITE, *(extra or [])]
    if query is not None:
        params.append({"in": "query", "schema": query})
    ok = {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{answer}"}}},
    }
    return (
        path,
        "get",
        {
            "summary": summary,
            "security": [{"ApiToken": []}],
            "parameters": params,
            "responses": {"200": ok, "401": _ERROR, "404": _ERROR, "422": _ERROR},
        },
    )


ROUTES = [
    _route(
        "/v1/sites/{site_id}/segments",
        "Customers and net revenue per RFM segment and lifecycle stage",
        "Segments",
    ),
    _route(
        "/v1/sites/{site_id}/products/{product_id}/recommendations",
        "Bought-together products (support, confidence, lift) and upsell candidates",
        "Recommendations",
        extra=[
            {
                "name": "product_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "The store's product id",
            }
        ],
    ),
    _route(
        "/v1/sites/{site_id}/forecast",
        "Daily demand forecast with an interval, and days of stock left",
        "Forecast",
        ForecastQuerySchema,
    ),
    _route(
        "/v1/sites/{site_id}/alerts",
        "Open alerts: revenue, conversion or refunds off their weekday "
        "baseline, products that stopped selling",
        "Alerts",
    ),
]
SCHEMAS: dict[str, Any] = {
    "Segments": SegmentsSchema,
    "Recommendations": RecommendationsSchema,
    "Forecast": ForecastSchema,
    "Alerts": AlertsSchema,
}
