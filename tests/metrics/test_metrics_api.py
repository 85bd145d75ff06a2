"""The metric routes: answers an owner reads, validation, and nothing of one site for another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from companion.models import Contact, Site
from tests import factories as f
from tests.helpers import bearer, post_events, run_jobs

ROUTES = [
    "/v1/sites/{id}/metrics?from=2026-11-01&to=2026-11-30",
    "/v1/sites/{id}/metrics/series?metric=total_revenue&from=2026-11-01&to=2026-11-30",
    "/v1/sites/{id}/metrics/breakdown?by=product&from=2026-11-01&to=2026-11-30",
    "/v1/sites/{id}/cohorts?interval=month",
]


@pytest.fixture
def shop(client: Any, site: Any) -> Any:
    post_events(
        client,
        site,
        [
            f.order(1, total="59.80"),
            f.order(
                2,
                total="20.00",
                email="bob@example.com",
                paid="2026-11-21T10:00:00Z",
                created="2026-11-21T09:00:00Z",
                modified="2026-11-21T10:00:00Z",
            ),
            f.refund(1, 9, "9.80", at="2026-11-25T10:00:00Z"),
            f.order(
                3,
                total="30.00",
                paid="2026-10-20T10:00:00Z",
                created="2026-10-20T10:00:00Z",
                modified="2026-10-20T10:00:00Z",
            ),
        ],
    )
    run_jobs()
    return site


def get(client: Any, site: Any, path: str) -> Any:
    return client.get(path.replace("{id}", site.site.public_id), headers=bearer(site))


def test_metrics_answer_money_as_decimal_strings_with_the_change_against_the_previous_period(
    client: Any, shop: Any
) -> None:
    answer = get(
        client, shop, "/v1/sites/{id}/metrics?from=2026-11-01&to=2026-11-30&compare=previous"
    )
    assert answer.status_code == 200
    body = answer.json
    assert body["currency"] == "EUR" and body["previous"] == {
        "from": "2026-10-02",
        "to": "2026-10-31",
    }
    revenue = body["metrics"]["total_revenue"]
    assert revenue == {
        "value": "79.80",
        "unit": "money",
        "reason": None,
        "previous": "30.00",
        "previous_reason": None,
        "change_percent": 166.0,
    }
    assert body["metrics"]["net_revenue"]["value"] == "70.00"
    assert body["metrics"]["orders"]["value"] == 2 and body["metrics"]["aov"]["value"] == "39.90"
    assert (
        body["metrics"]["retention_rate"]["value"] == 1.0
    )  # Ann ordered in October and again in November


def test_without_page_views_conversion_rate_is_null_with_the_reason(client: Any, shop: Any) -> None:
    conversion = get(client, shop, ROUTES[0]).json["metrics"]["conversion_rate"]
    assert conversion["value"] is None and "page views" in conversion["reason"]


def test_without_page_views_the_reason_says_what_arrived_and_since_when_not_no_tracker(
    client: Any, shop: Any
) -> None:
    # The tracker may be on in a shop nobody has browsed yet: the service cannot tell it is missing.
    Site.update(created_at=datetime(2026, 10, 1, 12, 0)).where(Site.id == shop.site.id).execute()
    reason = get(client, shop, ROUTES[0]).json["metrics"]["conversion_rate"]["reason"]
    assert "tracker not installed" not in reason
    assert reason.startswith(
        "No page views have arrived since this store was connected on 2026-10-01, "
        "though 3 orders did, so sessions are unknown."
    )


def test_predicted_clv_is_null_below_the_data_gate(client: Any, shop: Any) -> None:
    clv = get(client, shop, ROUTES[0]).json["metrics"]["clv_predicted"]
    assert clv["value"] is None and "500 customers" in clv["reason"]


def test_every_metric_key_of_the_design_is_answered(client: Any, shop: Any) -> None:
    keys = set(get(client, shop, ROUTES[0]).json["metrics"])
    assert keys == {
        "total_revenue",
        "refunds",
        "net_revenue",
        "orders",
        "aov",
        "conversion_rate",
        "cart_abandonment_rate",
        "clv_historic",
        "clv_predicted",
        "retention_rate",
        "repeat_purchase_rate",
        "refund_rate_count",
        "refund_rate_value",
        "email_revenue",
        "recovered_revenue",
    }


def test_another_currency_is_answered_on_request(client: Any, shop: Any) -> None:
    body = get(client, shop, ROUTES[0] + "&currency=usd").json
    assert body["currency"] == "USD" and body["metrics"]["total_revenue"]["value"] == "0.00"


def test_series_by_week_puts_refunds_on_the_day_they_were_made(client: Any, shop: Any) -> None:
    body = get(
        client,
        shop,
        "/v1/sites/{id}/metrics/series?metric=net_revenue&interval=week"
        "&from=2026-11-16&to=2026-11-30",
    ).json
    assert [(p["from"], p["to"], p["value"]) for p in body["points"]] == [
        ("2026-11-16", "2026-11-22", "79.80"),
        ("2026-11-23", "2026-11-29", "-9.80"),
        ("2026-11-30", "2026-11-30", "0.00"),
    ]


def test_series_by_month_follows_calendar_months(client: Any, shop: Any) -> None:
    body = get(
        client,
        shop,
        "/v1/sites/{id}/metrics/series?metric=orders&interval=month&from=2026-10-15&to=2026-11-30",
    ).json
    assert [(p["from"], p["value"]) for p in body["points"]] == [
        ("2026-10-15", 1),
        ("2026-11-01", 2),
    ]


def test_breakdown_by_product_gives_revenue_orders_aov_and_refund_rate(
    client: Any, shop: Any
) -> None:
    groups = get(client, shop, ROUTES[2]).json["groups"]
    assert groups == [
        {
            "key": "7",
            "label": "7",
            "orders": 2,
            "revenue": "119.60",
            "quantity": 4,
            "refunds": "0.00",
            "aov": "59.80",
            "refund_rate": 0.5,
        }
    ]


def test_breakdown_by_payment_method_counts_whole_orders(client: Any, shop: Any) -> None:
    groups = get(client, shop, ROUTES[2].replace("by=product", "by=payment_method")).json["groups"]
    assert [(g["key"], g["orders"], g["revenue"], g["refunds"]) for g in groups] == [
        ("stripe", 2, "79.80", "9.80")
    ]


def test_breakdown_by_segment_uses_the_customers_current_segment(client: Any, shop: Any) -> None:
    Contact.update(rfm_segment="Champions").where(Contact.email == "ann@example.com").execute()
    Contact.update(rfm_segment=None).where(Contact.email == "bob@example.com").execute()
    groups = get(client, shop, ROUTES[2].replace("by=product", "by=segment")).json["groups"]
    assert [(g["key"], g["orders"], g["revenue"]) for g in groups] == [
        ("Champions", 1, "59.80"),
        ("(none)", 1, "20.00"),
    ]


def test_cohorts_show_who_ordered_again_in_later_months(client: Any, shop: Any) -> None:
    body = get(client, shop, ROUTES[3]).json
    assert [(c["cohort"], c["size"]) for c in body["cohorts"]] == [("2026-10", 1), ("2026-11", 1)]
    assert body["cohorts"][0]["months"] == [
        {"offset": 1, "month": "2026-11", "customers": 1, "share": 1.0}
    ]
    assert body["repeat_purchase_rate"] == 0.5
    assert body["retention"][0] == {
        "month": "2026-11",
        "previous_month_customers": 1,
        "retained": 1,
        "rate": 1.0,
    }


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-11-30&to=2026-11-01",
        "from=nope&to=2026-11-01",
        "to=2026-11-01",
        "from=2026-11-01&to=2026-11-30&compare=last_year",
        "from=2026-11-01&to=2026-11-30&currency=EURO",
        "from=2016-01-01&to=2026-11-30",
        "from=2026-11-01&to=2026-11-30&unknown=1",
    ],
)
def test_bad_metric_queries_answer_422_naming_the_field(client: Any, shop: Any, query: str) -> None:
    answer = get(client, shop, "/v1/sites/{id}/metrics?" + query)
    assert answer.status_code == 422 and answer.json["fields"]


@pytest.mark.parametrize("route", ROUTES[:3])
@pytest.mark.parametrize(
    "dates",
    [
        "from=0001-01-01&to=0001-01-01",
        "from=9999-12-01&to=9999-12-31",
        "from=1969-12-31&to=1970-01-05",
    ],
)
def test_days_outside_1970_to_2200_answer_422_not_500(
    client: Any, shop: Any, route: str, dates: str
) -> None:
    """Found by schemathesis: the previous period of year 1 overflowed Python's dates (500)."""
    path, query = route.split("?")
    kept = [part for part in query.split("&") if not part.startswith(("from=", "to="))]
    if path.endswith("/metrics"):
        kept.append("compare=previous")
    answer = get(client, shop, f"{path}?{dates}&" + "&".join(kept))
    assert answer.status_code == 422 and "from" in answer.json["fields"], answer.json


@pytest.mark.parametrize(
    "path",
    [
        ROUTES[1].replace("total_revenue", "profit"),
        ROUTES[1] + "&interval=hour",
        ROUTES[2].replace("product", "colour"),
        "/v1/sites/{id}/cohorts?interval=week",
    ],
)
def test_unknown_metrics_intervals_and_dimensions_answer_422(
    client: Any, shop: Any, path: str
) -> None:
    assert get(client, shop, path).status_code == 422


@pytest.mark.parametrize("route", ROUTES)
def test_another_sites_token_gets_401(client: Any, shop: Any, other_site: Any, route: str) -> None:
    answer = client.get(route.replace("{id}", shop.site.public_id), headers=bearer(other_site))
    assert answer.status_code == 401


@pytest.mark.parametrize("route", ROUTES)
def test_no_token_gets_401(client: Any, shop: Any, route: str) -> None:
    assert client.get(route.replace("{id}", shop.site.public_id)).status_code == 401


def test_the_routes_are_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/openapi.json").json["paths"]
    for route in (
        "/v1/sites/{site_id}/metrics",
        "/v1/sites/{site_id}/metrics/series",
        "/v1/sites/{site_id}/metrics/breakdown",
        "/v1/sites/{site_id}/cohorts",
    ):
        assert "get" in paths[route]
