"""What the metrics routes accept and answer: money as decimal strings, ratios as numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from companion.metrics.breakdown import DIMENSIONS
from companion.metrics.figures import METRIC_KEYS
from companion.metrics.periods import INTERVALS
from companion.schemas.fields import Day, Money, format_money

MAX_DAYS = 3700  # ten years by day is the longest range a request may ask for
CURRENCY = validate.Regexp(r"^[A-Za-z]{3}$", error="An ISO 4217 code such as EUR.")


class _RangeSchema(Schema):
    from_ = Day(data_key="from", required=True, metadata={"description": "First day."})
    to = Day(
        required=True,
        metadata={
            "description": f"Last day: not before `from`, fewer than {MAX_DAYS} days after it."
        },
    )
    currency = fields.String(validate=CURRENCY)

    @validates_schema
    def _check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["to"] < data["from_"]:
            raise ValidationError("Must not be before 'from'.", "to")
        if (data["to"] - data["from_"]).days >= MAX_DAYS:
            raise ValidationError(f"At most {MAX_DAYS} days.", "to")


class MetricsQuerySchema(_RangeSchema):
    compare = fields.String(validate=validate.OneOf(("previous",)))


class SeriesQuerySchema(_RangeSchema):
    metric = fields.String(required=True, validate=validate.OneOf(METRIC_KEYS))
    interval = fields.String(load_default="day", validate=validate.OneOf(INTERVALS))


class BreakdownQuerySchema(_RangeSchema):
    by = fields.String(required=True, validate=validate.OneOf(DIMENSIONS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class CohortsQuerySchema(Schema):
    interval = fields.String(load_default="month", validate=validate.OneOf(("month",)))
    currency = fields.String(validate=CURRENCY)


class MetricValue(fields.Field):
    """Money as a decimal string, counts as integers, ratios as numbers (0.25 = 25 %)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return format_money(value) if isinstance(value, Decimal) else value


class MetricPeriodSchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()


class MetricSchema(Schema):
    value = MetricValue(allow_none=True)
    unit = fields.String(metadata={"enum": ["money", "count", "ratio"]})
    reason = fields.String(allow_none=True, metadata={"description": "Why value is null."})
    previous = MetricValue(allow_none=True)
    previous_reason = fields.String(allow_none=True)
    change_percent = fields.Float(allow_none=True)


class MetricsSchema(Schema):
    currency = fields.String()
    period = fields.Nested(MetricPeriodSchema)
    previous = fields.Nested(MetricPeriodSchema, allow_none=True)
    metrics = fields.Dict(
        keys=fields.String(validate=validate.OneOf(METRIC_KEYS)), values=fields.Nested(MetricSchema)
    )


class SeriesPointSchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    value = MetricValue(allow_none=True)
    reason = fields.String(allow_none=True)


class SeriesSchema(Schema):
    metric = fields.String()
    unit = fields.String()
    interval = fields.String()
    currency = fields.String()
    period = fields.Nested(MetricPeriodSchema)
    points = fields.List(fields.Nested(SeriesPointSchema))


class BreakdownGroupSchema(Schema):
    key = fields.String()
    label = fields.String()
    orders = fields.Integer()
    revenue = Money()
    quantity = fields.Integer(allow_none=True)
    refunds = Money(allow_none=True)
    aov = Money(allow_none=True)
    refund_rate = fields.Float(allow_none=True)


class BreakdownSchema(Schema):
    by = fields.String()
    currency = fields.String()
    period = fields.Nested(MetricPeriodSchema)
    groups = fields.List(fields.Nested(BreakdownGroupSchema))
    total_groups = fields.Integer()


class CohortMonthSchema(Schema):
    offset = fields.Integer()
    month = fields.String()
    customers = fields.Integer()
    share = fields.Float()


class CohortSchema(Schema):
    cohort = fields.String()
    size = fields.Integer()
    months = fields.List(fields.Nested(CohortMonthSchema))


class MonthRetentionSchema(Schema):
    month = fields.String()
    previous_month_customers = fields.Integer()
    retained = fields.Integer()
    rate = fields.Float()


class CohortsSchema(Schema):
    interval = fields.String()
    currency = fields.String()
    customers = fields.Integer()
    repeat_purchase_rate = fields.Float(allow_none=True)
    cohorts = fields.List(fields.Nested(CohortSchema))
    retention = fields.List(fields.Nested(MonthRetentionSchema))


def _ok(name: str) -> dict[str, Any]:
    return {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_SITE = {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ERRORS = {"401": _ERROR, "404": _ERROR, "422": _ERROR}


def _route(
    path: str, summary: str, query: type[Schema], answer: str
) -> tuple[str, str, dict[str, Any]]:
    return (
        path,
        "get",
        {
            "summary": summary,
            "security": [{"ApiToken": []}],
            "parameters": [_SITE, {"in": "query", "schema": query}],
            "responses": {"200": _ok(answer), **_ERRORS},
        },
    )


ROUTES = [
    _route(
        "/v1/sites/{site_id}/metrics",
        "Headline metrics of a period (DESIGN 4), optionally against the "
        "previous period of equal length",
        MetricsQuerySchema,
        "Metrics",
    ),
    _route(
        "/v1/sites/{site_id}/metrics/series",
        "One metric per day, ISO week or month of the site's time zone",
        SeriesQuerySchema,
        "Series",
    ),
    _route(
        "/v1/sites/{site_id}/metrics/breakdown",
        "Revenue, orders, AOV and refund rate per group",
        BreakdownQuerySchema,
        "Breakdown",
    ),
    _route(
        "/v1/sites/{site_id}/cohorts",
        "First-order cohorts by month and their retention",
        CohortsQuerySchema,
        "Cohorts",
    ),
]
SCHEMAS: dict[str, Any] = {
    "Metrics": MetricsSchema,
    "Series": SeriesSchema,
    "Breakdown": BreakdownSchema,
    "Cohorts": CohortsSchema,
}
