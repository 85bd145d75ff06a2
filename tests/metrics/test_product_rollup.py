"""The products page and its exports read the per-product-per-day roll-up (`rollup_dimension`,
dimension `product`): it answers what counting the order lines answers, to the cent, after
random streams of late, cancelled, deleted and refunded orders, an erased customer, a second site
and a second currency, and stays equal to a rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from companion import metrics
from companion.core.days import local_day
from companion.dashboard import products
from companion.dashboard.periods import Period
from companion.intelligence import outlook
from companion.metrics.rebuild import rebuild_site
from companion.models import Order, OrderItem, Refund, Site, utcnow
from companion.models.rollups import ProductOutlook
from companion.privacy import erase_person
from jobs import intelligence
from jobs.schedule import SCHEDULE
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import START, iso, picture, random_stream

FIRST = START.date() - timedelta(days=1)
WINDOWS = [
    (FIRST, FIRST + timedelta(days=60)),  # October's days, November, December less its last days
    (FIRST + timedelta(days=2), FIRST + timedelta(days=4)),
    (FIRST + timedelta(days=5), FIRST + timedelta(days=5)),
    (date(2026, 11, 1), date(2026, 11, 30)),  # a whole month: the month roll-up alone
    (date(2026, 11, 2), date(2026, 11, 29)),  # the month less its two days outside
    (date(2026, 10, 5), date(2026, 11, 2)),  # October less 1-4, and two days of November
]


def counted_from_order_lines(site: Site, first: date, last: date, currency: str) -> dict[str, Any]:
    """Per product: orders, units, revenue and refunded orders, by walking every counted order of
    the local days and its lines (what the page would do without the roll-up)."""
    groups: dict[str, dict[str, Any]] = {}
    for order in Order.select().where(
        Order.site == site.id,
        Order.is_counted == True,
        Order.deleted_at.is_null(),
        Order.currency == currency,
    ):
        if not first <= local_day(order.counted_at, site.timezone) <= last:
            continue
        refunded = Refund.select().where(Refund.order == order.id).exists()
        seen: set[str] = set()
        for line in OrderItem.select().where(OrderItem.order == order.id):
            key = str(line.product_id or "(none)")
            g = groups.setdefault(
                key, {"orders": 0, "quantity": 0, "revenue": Decimal(0), "refunded": 0}
            )
            g["quantity"] += line.quantity
            g["revenue"] += Decimal(line.total)
            if key not in seen:
                seen.add(key)
                g["orders"] += 1
                g["refunded"] += refunded
    return groups


def from_rollup(site: Site, first: date, last: date, currency: str) -> dict[str, Any]:
    answer = metrics.breakdown(site, "product", first, last, currency=currency, limit=10_000)
    return {
        g["key"]: {
            "orders": g["orders"],
            "quantity": g["quantity"],
            "revenue": g["revenue"],
            "refunded": round(g["refund_rate"] * g["orders"]),
        }
        for g in answer["groups"]
    }


def assert_exact(site_id: int) -> None:
    site = Site.get_by_id(site_id)
    for first, last in WINDOWS:
        for currency in ("EUR", "USD"):
            counted = counted_from_order_lines(site, first, last, currency)
            assert from_rollup(site, first, last, currency) == {
                k: v for k, v in counted.items() if v["orders"] or v["revenue"]
            }, (first, last, currency)
    counted = counted_from_order_lines(site, *WINDOWS[0], site.currency)
    assert counted, "the stream sold products"
    rows = products.product_rows(site, Period(*WINDOWS[0], "custom", False))
    assert {r["product_id"]: (r["units"], r["revenue"], r["orders"]) for r in rows} == {
        k: (v["quantity"], v["revenue"], v["orders"])
        for k, v in counted.items()
        if v["orders"] or v["revenue"]
    }
    today = FIRST + timedelta(days=outlook.HISTORY_DAYS // 2)
    ids, matrix = outlook.daily_units(site, today)
    for day in range(outlook.HISTORY_DAYS):
        on = today - timedelta(days=outlook.HISTORY_DAYS - day)
        units = counted_from_order_lines(site, on, on, site.currency)
        assert {pid: matrix[i, day] for i, pid in enumerate(ids) if matrix[i, day]} == {
            k: v["quantity"] for k, v in units.items() if v["quantity"]
        }, on


OUTLOOK_DAY = FIRST + timedelta(days=outlook.HISTORY_DAYS // 2)  # the stream's days inside


def fresh_outlook(site_id: int) -> list[outlook.Outlook]:
    """The products page's forecast and stalled test computed now from the roll-up (not stored)."""
    return outlook._computed(*outlook.daily_units(Site.get_by_id(site_id), OUTLOOK_DAY))


def stored_outlook(site_id: int) -> list[outlook.Outlook]:
    """What the page shows: the outlook stored for the day, or computed (and stored) if it is
    out of date."""
    return outlook.outlook(Site.get_by_id(site_id), OUTLOOK_DAY)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_product_rollup_equals_counting_order_lines(client, site, other_site, settings, seed):
    events, others = random_stream(seed, orders=40), random_stream(seed + 100, orders=20)
    half = len(events) // 2
    for chunk in range(0, half, 7):
        assert post_events(client, site, events[chunk : min(chunk + 7, half)]).status_code == 202
        if others[chunk : chunk + 7]:
            assert post_events(client, other_site, others[chunk : chunk + 7]).status_code == 202
        run_jobs()
    early = stored_outlook(site.site.id)  # stored; the second half changes those days' units
    assert early and early == fresh_outlook(site.site.id)
    erase_person(site.site.id, "ann@example.com", settings.secret_key, utcnow())
    for chunk in range(half, len(events), 9):
        assert post_events(client, site, events[chunk : chunk + 9]).status_code == 202
        run_jobs()
    if others[half:]:
        assert post_events(client, other_site, others[half:]).status_code == 202
    run_jobs()
    assert Order.select().where(Order.deleted_at.is_null(False)).exists() or seed != 11
    assert Refund.select().exists()
    for s in (site, other_site):
        assert_exact(s.site.id)
    late = fresh_outlook(site.site.id)
    assert late != early, "the second half changed units of the outlook's eight weeks"
    assert stored_outlook(site.site.id) == late
    incremental = picture()
    for s in (site, other_site):
        rebuild_site(Site.get_by_id(s.site.id), utcnow())
    assert picture() == incremental
    assert stored_outlook(site.site.id) == late


def test_a_stored_outlook_is_kept_while_its_days_stand_and_recomputed_after_a_rebuild(client, site):
    """An order of the outlook's own day (not yet complete) leaves the stored rows as they are;
    a change only a rebuild sees (lines removed from the store behind the appliers' back) makes
    the next view compute the outlook again."""
    events = random_stream(21, orders=30)
    assert post_events(client, site, events).status_code == 202
    run_jobs()
    stored = stored_outlook(site.site.id)
    assert stored, "the stream sold products"
    ids = sorted(o.id for o in ProductOutlook.select())
    noon = iso(START + timedelta(days=outlook.HISTORY_DAYS // 2 - 1, hours=12))
    assert noon.startswith(OUTLOOK_DAY.isoformat())
    on_the_day = f.order(900, created=noon, paid=noon, modified=noon)
    assert post_events(client, site, [on_the_day]).status_code == 202
    run_jobs()
    assert stored_outlook(site.site.id) == stored
    assert sorted(o.id for o in ProductOutlook.select()) == ids  # read, not written again
    lines = OrderItem.select(OrderItem.id).join(Order).where(Order.is_counted == True)
    OrderItem.delete().where(OrderItem.id.in_([i.id for i in lines][::2])).execute()
    assert stored_outlook(site.site.id) == stored  # the appliers did not see it
    rebuild_site(Site.get_by_id(site.site.id), utcnow())
    assert fresh_outlook(site.site.id) != stored
    assert stored_outlook(site.site.id) == fresh_outlook(site.site.id)


def test_the_scheduler_stores_each_sites_outlook_soon_after_its_local_midnight(
    client, site, other_site
):
    """So the owner's first view of the day reads it instead of computing it. Run again, it keeps
    what is current; a site that sold nothing stores nothing."""
    assert post_events(client, site, random_stream(21, orders=30)).status_code == 202
    run_jobs()
    berlin = datetime.combine(OUTLOOK_DAY, time(0, 5), ZoneInfo("Europe/Berlin"))
    after = berlin.astimezone(UTC).replace(tzinfo=None)  # naive UTC, as the job's clock reads
    assert outlook.prepare_outlooks(after - timedelta(minutes=10)) == {"sites": 2, "stored": 1}
    assert {o.day for o in ProductOutlook.select()} == {OUTLOOK_DAY - timedelta(days=1)}
    assert outlook.prepare_outlooks(after) == {"sites": 2, "stored": 1}
    assert {(o.site_id, o.day) for o in ProductOutlook.select()} == {(site.site.id, OUTLOOK_DAY)}
    ids = sorted(o.id for o in ProductOutlook.select())
    assert outlook.prepare_outlooks(after + timedelta(minutes=15)) == {"sites": 2, "stored": 0}
    assert stored_outlook(site.site.id) == fresh_outlook(site.site.id)
    assert sorted(o.id for o in ProductOutlook.select()) == ids  # read, not written again


def test_the_outlook_job_is_scheduled_and_prepares_todays(client, site):
    assert any(job is intelligence.prepare_product_outlooks for _, _, job in SCHEDULE)
    assert intelligence.prepare_product_outlooks() == {"sites": 1, "stored": 0}  # nothing sold
