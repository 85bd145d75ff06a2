"""The headline metrics equal an independent oracle to the cent, on a store in New York time with
the awkward cases: partial refunds a month later, refunds of orders from before the period,
cancelled / failed / never-paid orders, on-hold orders paid later, a zero-value order, one person
as guest and registered customer, two currencies, orders around midnight and the DST change."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from companion.metrics import headline, record_cart_email, record_touch
from companion.metrics.rebuild import rebuild_site
from companion.models import Contact, Site, utcnow
from companion.models.base import to_naive_utc
from companion.sites import create_site
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.oracle import Oracle, _t

PERIODS = [
    (date(2026, 10, 1), date(2026, 10, 31)),
    (date(2026, 11, 1), date(2026, 11, 30)),
    (date(2026, 11, 1), date(2026, 11, 1)),
    (date(2026, 9, 30), date(2026, 9, 30)),
    (date(2026, 9, 1), date(2026, 11, 30)),
]
TOUCHES = [
    {
        "email": "ann@example.com",
        "kind": "click",
        "at": "2026-10-03T10:00:00Z",
        "flow": "abandoned_cart",
    },
    {
        "email": "dan@example.com",
        "kind": "open",
        "at": "2026-10-19T10:00:00Z",
        "flow": "post_purchase",
    },
]
CART_EMAILS = {"c1": "2026-10-04T12:00:00Z"}


def _order(
    number: int,
    total: str,
    paid: str | None,
    email: str,
    status: str = "processing",
    created: str | None = None,
    currency: str = "USD",
    **extra: Any,
) -> dict[str, Any]:
    created = created or paid
    return f.order(
        number,
        status=status,
        total=total,
        created=created,
        paid=paid,
        modified=extra.pop("modified", created),
        email=email,
        currency=currency,
        **extra,
    )


def _with(event: dict[str, Any], **fields: Any) -> dict[str, Any]:
    event.update(fields)
    return event


def store_events() -> list[list[dict[str, Any]]]:
    """Batches in posting order."""
    registered = _order(7, "25.00", "2026-10-20T10:00:00Z", "dan@example.com")
    registered["contact"]["wp_user_id"] = "12"
    return [
        [
            f.refund(15, "r5", "10.00", at="2026-10-26T10:00:00Z", email="hal@example.com")
        ],  # before its order
        [
            f.cart("c1", at="2026-10-04T10:00:00Z"),
            f.cart("c2", at="2026-10-05T10:00:00Z"),
            f.cart("c3", at="2026-10-06T10:00:00Z", items=[]),
            f.page_view("s1", "2026-10-05T13:50:00Z"),
            f.page_view("s1", "2026-10-05T13:55:00Z"),
            f.page_view("s2", "2026-10-06T10:00:00Z"),
            f.page_view("s3", "2026-10-31T23:50:00Z"),
        ],
        [
            _with(
                _order(
                    1,
                    "100.00",
                    "2026-10-05T14:05:00Z",
                    "ann@example.com",
                    created="2026-10-05T14:00:00Z",
                    cart_token="c1",
                ),
                session_id="s1",
            ),
            _order(2, "80.00", "2026-09-20T12:00:00Z", "bob@example.com", status="completed"),
            _order(
                3,
                "50.00",
                None,
                "cy@example.com",
                status="cancelled",
                created="2026-10-07T10:00:00Z",
            ),
            _order(
                4, "40.00", None, "cy@example.com", status="failed", created="2026-10-08T10:00:00Z"
            ),
            _order(
                5,
                "60.00",
                None,
                "Dan@Example.com",
                status="on_hold",
                created="2026-10-30T20:00:00Z",
            ),
            _order(6, "0.00", "2026-10-15T10:00:00Z", "eve@example.com", items=[]),
            registered,
            _order(8, "70.00", "2026-10-09T10:00:00Z", "ann@example.com", currency="EUR"),
            _order(9, "10.00", "2026-10-01T03:30:00Z", "fay@example.com"),
            _order(10, "20.00", "2026-11-01T04:30:00Z", "ann@example.com"),
            _order(11, "30.00", "2026-11-02T04:30:00Z", "bob@example.com"),
            _order(12, "45.00", "2026-10-10T10:00:00Z", "gus@example.com", status="refunded"),
            _order(
                13,
                "35.00",
                None,
                "ivy@example.com",
                status="refunded",
                created="2026-10-10T10:00:00Z",
            ),
            _order(16, "40.00", "2026-09-10T10:00:00Z", "ann@example.com"),
        ],
        [
            f.refund(1, "r1", "30.00", at="2026-11-10T15:00:00Z"),
            f.refund(2, "r2", "15.50", at="2026-10-12T16:00:00Z"),
            f.refund(12, "r3", "45.00", at="2026-10-11T10:00:00Z"),
            f.refund(13, "r4", "35.00", at="2026-10-10T12:00:00Z"),
            _order(
                5,
                "60.00",
                "2026-11-02T15:00:00Z",
                "Dan@Example.com",
                created="2026-10-30T20:00:00Z",
                modified="2026-11-02T15:00:00Z",
            ),
            _order(15, "90.00", "2026-10-25T10:00:00Z", "hal@example.com"),
        ],
    ]


@pytest.fixture
def store(client: Any, db: Any) -> Any:
    new = create_site("NY", "https://ny.example", timezone="America/New_York", currency="USD")
    post_events(client, new, [f.event("customer.updated", {}, email=t["email"]) for t in TOUCHES])
    run_jobs()
    for touch in TOUCHES:
        contact = Contact.get(Contact.site == new.site.id, Contact.email == touch["email"])
        record_touch(
            new.site.id,
            contact.id,
            f"msg-{touch['email']}",
            touch["kind"],
            to_naive_utc(_t(touch["at"])),
            flow_key=touch["flow"],
            step=1,
        )
    for token, sent in CART_EMAILS.items():
        record_cart_email(new.site.id, token, to_naive_utc(_t(sent)))
    batches = store_events()
    for batch in batches:
        assert post_events(client, new, batch).status_code == 202
        run_jobs()
    oracle = Oracle(
        [e for b in batches for e in b],
        "America/New_York",
        touches=TOUCHES,
        cart_emails=CART_EMAILS,
    )
    return new, oracle


def _values(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v["value"] for k, v in answer["metrics"].items() if k != "clv_predicted"}


@pytest.mark.parametrize("currency", ["USD", "EUR"])
@pytest.mark.parametrize("first,last", PERIODS)
def test_every_headline_metric_equals_the_oracle(
    store: Any, first: date, last: date, currency: str
) -> None:
    new, oracle = store
    site = Site.get_by_id(new.site.id)
    assert _values(headline(site, first, last, currency=currency)) == oracle.metrics(
        first, last, currency
    )


def test_the_oracle_data_set_has_the_cases_it_claims(store: Any) -> None:
    _, oracle = store
    october = oracle.metrics(date(2026, 10, 1), date(2026, 10, 31), "USD")
    assert (
        october["orders"] == 5 and october["total_revenue"] == 260
    )  # orders 1, 6, 7, 12, 15 (9 is Sep 30 there)
    assert october["refunds"] == 15.50 + 45 + 10
    assert october["email_revenue"] == 100 and october["recovered_revenue"] == 100
    assert (
        oracle.metrics(date(2026, 9, 30), date(2026, 9, 30), "USD")["orders"] == 1
    )  # 23:30 in New York
    assert (
        oracle.metrics(date(2026, 11, 1), date(2026, 11, 1), "USD")["orders"] == 2
    )  # DST day: 00:30 and 23:30


def test_the_numbers_survive_a_rebuild(store: Any) -> None:
    new, oracle = store
    site = Site.get_by_id(new.site.id)
    rebuild_site(site, utcnow())  # as `companion rollups rebuild` would
    for first, last in PERIODS:
        assert _values(headline(site, first, last)) == oracle.metrics(first, last, "USD")


def test_compare_gives_the_previous_period_and_the_change_in_percent(store: Any) -> None:
    new, oracle = store
    answer = headline(
        Site.get_by_id(new.site.id), date(2026, 11, 1), date(2026, 11, 30), compare=True
    )
    expected_now = oracle.metrics(date(2026, 11, 1), date(2026, 11, 30), "USD")
    expected_then = oracle.metrics(date(2026, 10, 2), date(2026, 10, 31), "USD")
    revenue = answer["metrics"]["total_revenue"]
    assert (revenue["value"], revenue["previous"]) == (
        expected_now["total_revenue"],
        expected_then["total_revenue"],
    )
    change = (
        (expected_now["total_revenue"] - expected_then["total_revenue"])
        / expected_then["total_revenue"]
        * 100
    )
    assert revenue["change_percent"] == round(float(change), 2)
    assert answer["previous"] == {"from": date(2026, 10, 2), "to": date(2026, 10, 31)}
