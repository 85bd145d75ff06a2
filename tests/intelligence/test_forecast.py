"""Demand forecast per product: an interval per day, days of stock, and the backtest that chose the
method."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from companion.intelligence import demand
from companion.models import Product
from tests.helpers import bearer

from .incidents import Incidents, generate

PLAN = Incidents(first=date(2026, 5, 1), refund_spike=400, stalled=104, revenue_drop=400)


@pytest.fixture
def store(site: Any) -> Any:
    generate(site.site, PLAN)
    return site


def test_a_forecast_has_a_daily_interval_and_the_backtest_of_both_methods(store: Any) -> None:
    Product.update(stock_quantity=200).where(
        Product.site == store.site.id, Product.external_id == "p0"
    ).execute()
    result = demand.forecast(store.site, "p0", 14, today=PLAN.day(100))
    assert len(result["days"]) == 14 and result["days"][0]["date"] == PLAN.day(100).isoformat()
    assert all(d["lower"] <= d["units"] <= d["upper"] for d in result["days"])
    assert 10 < sum(d["units"] for d in result["days"]) / 14 < 50  # p0 sells ~30 a day
    assert set(result["backtest"]) == {"ets", "seasonal_naive"}
    ets, naive = result["backtest"]["ets"]["mase"], result["backtest"]["seasonal_naive"]["mase"]
    assert result["method"] == ("ets" if ets < naive else "seasonal_naive")
    daily = sum(d["units"] for d in result["days"]) / 14
    assert result["stock_quantity"] == 200 and result["days_of_stock"] == pytest.approx(
        200 / daily, rel=0.25
    )


def test_a_product_that_stopped_selling_is_forecast_near_zero(store: Any) -> None:
    result = demand.forecast(store.site, "p2", 7, today=PLAN.day(119))
    assert sum(d["units"] for d in result["days"]) < 3 and result["days_of_stock"] is None


def test_the_forecast_route_validates_and_answers(store: Any, client: Any) -> None:
    url = f"/v1/sites/{store.site.public_id}/forecast"
    assert client.get(url, headers=bearer(store)).status_code == 422
    assert client.get(url + "?product_id=p0&days=0", headers=bearer(store)).status_code == 422
    assert client.get(url + "?product_id=nope", headers=bearer(store)).status_code == 404
    answer = client.get(url + "?product_id=p0&days=7", headers=bearer(store))
    assert answer.status_code == 200 and len(answer.json["days"]) == 7
    assert (
        answer.json == client.get(url + "?product_id=p0&days=7", headers=bearer(store)).json
    )  # cached
