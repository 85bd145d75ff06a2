"""The cohort roll-up answers what counting every customer-day answered, and stays equal to a
rebuild
when orders arrive late, are cancelled, deleted or refunded, or their customer is erased."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from companion import metrics
from companion.metrics.figures import RATIO_PLACES
from companion.metrics.periods import month_after
from companion.metrics.rebuild import rebuild_site
from companion.migrations.steps import create_cohort_months
from companion.models import CohortMonth, CustomerLedger, CustomerOrderDay, Site, utcnow
from companion.privacy import erase_person
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import picture, random_stream


def counted_from_customer_days(site: Site, currency: str) -> dict[str, Any]:
    """metrics.cohorts as it was computed before the roll-up: from every customer-day of the
    site."""
    ledger = list(
        CustomerLedger.select().where(
            CustomerLedger.site == site.id, CustomerLedger.currency == currency
        )
    )
    first = {c.contact_id: c.first_month for c in ledger}
    sizes = Counter(first.values())
    active: dict[tuple[str, str], set[int]] = {}
    customers: Counter[str] = Counter()
    returned: Counter[str] = Counter()
    for d in CustomerOrderDay.select().where(
        CustomerOrderDay.site == site.id, CustomerOrderDay.currency == currency
    ):
        active.setdefault((first[d.contact_id], d.month), set()).add(d.contact_id)
        following = f"{d.next_day:%Y-%m}"
        if following != d.month:
            customers[d.month] += 1
            returned[d.month] += following == month_after(d.month)
    cohorts = [
        {
            "cohort": c,
            "size": n,
            "months": [
                {
                    "offset": (int(m[:4]) - int(c[:4])) * 12 + int(m[5:]) - int(c[5:]),
                    "month": m,
                    "customers": len(ids),
                    "share": round(len(ids) / n, RATIO_PLACES),
                }
                for (cc, m), ids in sorted(active.items())
                if cc == c and m > c
            ],
        }
        for c, n in sorted(sizes.items())
    ]
    total = sum(sizes.values())
    repeaters = sum(1 for c in ledger if c.second_day is not None)
    return {
        "interval": "month",
        "currency": currency,
        "cohorts": cohorts,
        "customers": total,
        "repeat_purchase_rate": round(repeaters / total, RATIO_PLACES) if total else None,
        "retention": [
            {
                "month": month_after(m),
                "previous_month_customers": customers[m],
                "retained": returned[m],
                "rate": round(returned[m] / customers[m], RATIO_PLACES),
            }
            for m in sorted(customers)
        ],
    }


def assert_rollup_is_exact(site: Any) -> None:
    """Same answer as counting the customer-days, in every currency, and the same rows as a
    rebuild."""
    row = Site.get_by_id(site.site.id)
    for currency in ("EUR", "USD"):
        assert metrics.cohorts(row, currency=currency) == counted_from_customer_days(
            row, currency
        ), currency
    incremental = picture()["CohortMonth"]
    rebuild_site(row, utcnow())  # as `companion rollups rebuild` would
    assert picture()["CohortMonth"] == incremental


def post(client: Any, site: Any, *events: dict[str, Any]) -> None:
    assert post_events(client, site, list(events)).status_code == 202
    run_jobs()


def on(day: str) -> dict[str, str]:
    return {
        "created": f"{day}T09:00:00Z",
        "paid": f"{day}T09:00:00Z",
        "modified": f"{day}T09:00:00Z",
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cohorts_from_the_rollup_equal_counting_every_customer_day_after_a_random_stream(
    client, site, seed
):
    events = random_stream(seed, orders=40)
    for start in range(0, len(events), 7):
        post(client, site, *events[start : start + 7])
    assert CohortMonth.select().count() > 0
    assert_rollup_is_exact(site)


def test_a_late_order_from_an_earlier_month_moves_its_customer_to_that_cohort(client, site):
    post(
        client,
        site,
        f.order(1, **on("2026-11-10")),
        f.order(2, email="bo@example.com", **on("2026-10-05")),
    )
    post(client, site, f.order(3, **on("2026-09-20")))  # Ann's, arriving after her November order
    answer = metrics.cohorts(Site.get_by_id(site.site.id))
    assert [
        (c["cohort"], c["size"], [m["month"] for m in c["months"]]) for c in answer["cohorts"]
    ] == [("2026-09", 1, ["2026-11"]), ("2026-10", 1, [])]
    assert_rollup_is_exact(site)


def test_cancelled_and_deleted_orders_take_their_months_out_and_a_refund_does_not(client, site):
    post(
        client,
        site,
        f.order(1, **on("2026-09-10")),
        f.order(2, **on("2026-10-10")),
        f.order(3, **on("2026-11-10")),
    )
    retention = metrics.cohorts(Site.get_by_id(site.site.id))["retention"]
    assert [(r["month"], r["retained"]) for r in retention] == [
        ("2026-10", 1),
        ("2026-11", 1),
        ("2026-12", 0),
    ]
    post(
        client,
        site,
        f.refund(3, 901, "59.80", at="2026-11-12T09:00:00Z"),
        f.order(3, status="refunded", **{**on("2026-11-10"), "modified": "2026-11-12T09:00:00Z"}),
    )
    assert (
        metrics.cohorts(Site.get_by_id(site.site.id))["retention"] == retention
    )  # still counted: paid, then refunded
    post(
        client,
        site,
        f.order(2, status="cancelled", **{**on("2026-10-10"), "modified": "2026-10-11T09:00:00Z"}),
    )
    assert_rollup_is_exact(site)
    post(client, site, f.event("order.deleted", {"order_id": 1}, at="2026-11-20T09:00:00Z"))
    answer = metrics.cohorts(Site.get_by_id(site.site.id))
    assert [(c["cohort"], c["size"], c["months"]) for c in answer["cohorts"]] == [
        ("2026-11", 1, [])
    ]
    assert_rollup_is_exact(site)


def test_erasing_a_customer_keeps_the_cohorts_as_a_rebuild_has_them(client, site, settings):
    post(
        client,
        site,
        f.order(1, **on("2026-09-10")),
        f.order(2, **on("2026-10-10")),
        f.order(3, email="bo@example.com", **on("2026-10-12")),
    )
    before = metrics.cohorts(Site.get_by_id(site.site.id))
    erase_person(site.site.id, "ann@example.com", settings.secret_key, utcnow())
    assert metrics.cohorts(Site.get_by_id(site.site.id)) == before  # orders stay, anonymised
    post(
        client, site, f.order(4, email="ann@example.com", **on("2026-11-10"))
    )  # she returns as someone new
    assert metrics.cohorts(Site.get_by_id(site.site.id))["customers"] == 3
    assert_rollup_is_exact(site)


def test_another_sites_orders_never_reach_this_sites_cohorts(client, site, other_site):
    post(client, other_site, f.order(1, **on("2026-09-10")), f.order(2, **on("2026-10-10")))
    assert metrics.cohorts(Site.get_by_id(site.site.id))["cohorts"] == []
    post(client, site, f.order(1, **on("2026-11-10")))
    mine = metrics.cohorts(Site.get_by_id(site.site.id))
    assert [(c["cohort"], c["size"]) for c in mine["cohorts"]] == [("2026-11", 1)]
    assert metrics.cohorts(Site.get_by_id(other_site.site.id), currency="EUR")["customers"] == 1


def test_the_migration_fills_the_rollup_of_an_existing_store_as_ingestion_keeps_it(
    client, site, db
):
    post(client, site, *random_stream(4, orders=25))
    incremental = picture()["CohortMonth"]
    CohortMonth.delete().execute()
    create_cohort_months(db)
    assert picture()["CohortMonth"] == incremental
