"""Email revenue: the last click within the window before the order, opens only when asked,
refunds netted, per flow, step and campaign; recovered carts from abandoned-cart emails."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from companion.core.days import day_bounds
from companion.flows import reports
from companion.flows.definitions import FLOWS
from companion.metrics import breakdown, headline, record_cart_email, record_touch
from companion.models import Contact, OrderAttribution, Site
from tests import factories as f
from tests.helpers import post_events, run_jobs

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def ann(client: Any, site: Any) -> int:
    post_events(client, site, [f.event("customer.updated", {}, at="2026-11-01T00:00:00Z")])
    run_jobs()
    return Contact.get(Contact.email == "ann@example.com").id


def _order(client: Any, site: Any, number: int = 100, **kw: Any) -> None:
    post_events(client, site, [f.order(number, **kw)])
    run_jobs()


def _email(site: Any) -> Any:
    return headline(Site.get_by_id(site.site.id), *NOVEMBER)["metrics"]["email_revenue"]["value"]


def test_an_order_two_days_after_a_click_is_email_revenue(client: Any, site: Any, ann: int) -> None:
    record_touch(
        site.site.id,
        ann,
        "m-1",
        "click",
        datetime(2026, 11, 18, 9),
        flow_key="post_purchase",
        step=2,
    )
    _order(client, site)
    assert _email(site) == Decimal("59.80")
    attribution = OrderAttribution.get()
    assert (attribution.message_uuid, attribution.flow_key, attribution.step) == (
        "m-1",
        "post_purchase",
        2,
    )


def test_a_click_outside_the_window_does_not_count_but_a_wider_window_does(
    client: Any, site: Any, ann: int
) -> None:
    record_touch(
        site.site.id, ann, "m-1", "click", datetime(2026, 11, 10, 9), flow_key="win_back", step=1
    )
    _order(client, site)
    assert _email(site) == 0
    Site.update(options={"attribution_window_days": 14}).where(Site.id == site.site.id).execute()
    _order(client, site, modified="2026-11-20T11:00:00Z")  # any change of the order decides again
    assert _email(site) == Decimal("59.80")


def test_opens_count_only_when_the_site_says_so(client: Any, site: Any, ann: int) -> None:
    record_touch(
        site.site.id, ann, "m-1", "open", datetime(2026, 11, 19, 9), campaign="black-friday"
    )
    _order(client, site)
    assert _email(site) == 0
    Site.update(options={"attribution_count_opens": True}).where(Site.id == site.site.id).execute()
    _order(client, site, modified="2026-11-20T11:00:00Z")
    assert _email(site) == Decimal("59.80")


def test_the_last_click_wins_and_revenue_is_split_by_flow_step_and_campaign(
    client: Any, site: Any, ann: int
) -> None:
    record_touch(
        site.site.id,
        ann,
        "m-1",
        "click",
        datetime(2026, 11, 17, 9),
        flow_key="abandoned_cart",
        step=1,
    )
    record_touch(
        site.site.id, ann, "m-2", "click", datetime(2026, 11, 19, 9), campaign="black-friday"
    )
    _order(client, site)
    site_row = Site.get_by_id(site.site.id)
    assert breakdown(site_row, "email_campaign", *NOVEMBER)["groups"][0]["key"] == "black-friday"
    assert breakdown(site_row, "email_flow", *NOVEMBER)["groups"] == []
    record_touch(
        site.site.id,
        ann,
        "m-3",
        "click",
        datetime(2026, 11, 20, 9, 30),
        flow_key="abandoned_cart",
        step=3,
    )
    _order(client, site, modified="2026-11-20T11:00:00Z")
    groups = breakdown(site_row, "email_step", *NOVEMBER)["groups"]
    assert [(g["key"], g["revenue"]) for g in groups] == [("abandoned_cart:3", Decimal("59.80"))]
    assert breakdown(site_row, "email_campaign", *NOVEMBER)["groups"] == []


def test_refunds_reduce_email_revenue_on_the_day_they_are_made(
    client: Any, site: Any, ann: int
) -> None:
    record_touch(
        site.site.id,
        ann,
        "m-1",
        "click",
        datetime(2026, 11, 19, 9),
        flow_key="post_purchase",
        step=1,
    )
    _order(client, site)
    post_events(client, site, [f.refund(100, 1, "19.80", at="2026-11-25T10:00:00Z")])
    run_jobs()
    assert _email(site) == Decimal("40.00")
    assert headline(Site.get_by_id(site.site.id), date(2026, 11, 20), date(2026, 11, 20))[
        "metrics"
    ]["email_revenue"]["value"] == Decimal("59.80")


def test_an_order_from_a_cart_after_its_abandoned_cart_email_is_recovered(
    client: Any, site: Any, ann: int
) -> None:
    record_cart_email(site.site.id, "cart-1", datetime(2026, 11, 20, 9))
    record_cart_email(
        site.site.id, "cart-2", datetime(2026, 11, 20, 11)
    )  # after the order: not recovered
    _order(client, site, 1, cart_token="cart-1")
    _order(client, site, 2, cart_token="cart-2")
    recovered = headline(Site.get_by_id(site.site.id), *NOVEMBER)["metrics"]["recovered_revenue"][
        "value"
    ]
    assert recovered == Decimal("59.80")


def test_a_touch_must_be_a_click_or_an_open(site: Any, ann: int) -> None:
    with pytest.raises(ValueError):
        record_touch(site.site.id, ann, "m-1", "bounce", datetime(2026, 11, 19, 9))


def test_the_dashboards_flow_figures_from_the_roll_ups_equal_counting_attributed_orders(
    client: Any, site: Any, ann: int
) -> None:
    """The flows page reads attributed orders and recovered carts from the roll-ups; the report
    API walks the attributed orders: same orders, revenue net of refunds, recovered carts."""
    for n, (flow, step) in enumerate(
        [("post_purchase", 1), ("post_purchase", 2), ("abandoned_cart", 1), ("win_back", 1)]
    ):
        record_touch(
            site.site.id,
            ann,
            f"m-{n}",
            "click",
            datetime(2026, 11, 10 + 2 * n, 9),
            flow_key=flow,
            step=step,
        )
        _order(
            client,
            site,
            100 + n,
            paid=f"2026-11-{11 + 2 * n}T10:00:00Z",
            created=f"2026-11-{11 + 2 * n}T10:00:00Z",
            modified=f"2026-11-{11 + 2 * n}T10:00:00Z",
        )
    record_cart_email(site.site.id, "cart-9", datetime(2026, 11, 20, 9))
    _order(client, site, 200, cart_token="cart-9")
    post_events(
        client,
        site,
        [
            f.refund(100, 1, "19.80", at="2026-11-25T10:00:00Z"),
            f.refund(200, 2, "9.80", at="2026-12-02T10:00:00Z"),  # after the period: still netted
            f.order(103, status="cancelled", modified="2026-11-26T10:00:00Z"),
        ],
    )
    run_jobs()
    site_row = Site.get_by_id(site.site.id)
    for first, last in (NOVEMBER, (date(2026, 11, 12), date(2026, 11, 20))):
        start, end = day_bounds(first, last, site_row.timezone)
        days = reports.LocalDays(first, last, site_row.currency)
        for flow in FLOWS:
            walked = reports.flow_report(site_row.id, flow, start, end)
            rolled = reports.flow_report(site_row.id, flow, start, end, days)
            assert rolled == walked, flow
    november = reports.flow_report(site_row.id, "post_purchase", *day_bounds(*NOVEMBER, "UTC"))
    assert [s["orders"] for s in november["steps"]][:2] == [1, 1]
    assert (
        reports.flow_report(
            site_row.id, "abandoned_cart", *day_bounds(*NOVEMBER, site_row.timezone)
        )["recovered_carts"]
        == 1
    )
