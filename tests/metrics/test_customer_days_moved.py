"""A pass moves each customer's stored days by its orders' changes instead of reading all their
orders (metrics/customers.py): the same rows as a rebuild, nothing written for a change that moves
no day, and a customer whose stored days cannot be right is read from their orders again."""

from __future__ import annotations

from typing import Any

from companion.metrics.rebuild import rebuild_site
from companion.models import Contact, Site, utcnow
from companion.models.rollups import CustomerLedger, CustomerOrderDay
from tests import factories as f
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import picture


def _send(client: Any, site: Any, *events: dict[str, Any]) -> None:
    assert post_events(client, site, list(events)).status_code == 202
    run_jobs()


def _paid(number: int, at: str, **extra: Any) -> dict[str, Any]:
    """Order `number` created and paid at `at` (its last change then too, unless `modified`)."""
    return f.order(number, created=at, paid=at, **{"modified": at, **extra})


def _days(email: str) -> list[tuple[str, int, str]]:
    contact = Contact.get(Contact.email == email)
    return sorted(
        (str(d.day), d.orders, str(d.next_day))
        for d in CustomerOrderDay.select().where(CustomerOrderDay.contact == contact.id)
    )


def _as_rebuilt(site: Any) -> None:
    kept = picture()
    rebuild_site(Site.get_by_id(site.site.id), utcnow())
    assert picture() == kept


def test_orders_moved_between_days_and_customers_leave_the_rows_a_rebuild_writes(client, site):
    _send(
        client,
        site,
        _paid(1, "2026-03-02T09:00:00Z"),
        _paid(2, "2026-03-02T15:00:00Z"),
        _paid(3, "2026-04-10T09:00:00Z"),
    )
    assert _days("ann@example.com") == [
        ("2026-03-02", 2, "2026-04-10"),
        ("2026-04-10", 1, "9999-12-31"),
    ]
    # order 2 cancelled, order 3 now Bob's, a new order of Ann's in May: one pass
    _send(
        client,
        site,
        _paid(2, "2026-03-02T15:00:00Z", status="cancelled", modified="2026-05-01T09:00:00Z"),
        _paid(3, "2026-04-10T09:00:00Z", email="bob@example.com", modified="2026-05-01T09:00:00Z"),
        _paid(4, "2026-05-03T09:00:00Z"),
    )
    assert _days("ann@example.com") == [
        ("2026-03-02", 1, "2026-05-03"),
        ("2026-05-03", 1, "9999-12-31"),
    ]
    assert _days("bob@example.com") == [("2026-04-10", 1, "9999-12-31")]
    _as_rebuilt(site)


def test_a_change_that_moves_no_day_writes_no_customer_row(client, site):
    _send(client, site, _paid(1, "2026-03-02T09:00:00Z"))
    ledger = [(r.id, str(r.first_day)) for r in CustomerLedger.select()]
    days = [(r.id, r.orders) for r in CustomerOrderDay.select()]

    _send(
        client,
        site,
        _paid(1, "2026-03-02T09:00:00Z", status="completed", modified="2026-03-05T09:00:00Z"),
    )

    assert [(r.id, str(r.first_day)) for r in CustomerLedger.select()] == ledger
    assert [(r.id, r.orders) for r in CustomerOrderDay.select()] == days
    _as_rebuilt(site)


def test_a_customer_whose_stored_days_are_wrong_is_read_from_their_orders(client, site):
    """Stored days that cannot be right (here: lost) are not moved into worse ones: the pass reads
    that customer's orders, as every pass did before, so their days and ledger row are right again.
    (The month and cohort counts kept by deltas of the lost rows stay off until `companion rollups
    rebuild`: only the rows are healed.)"""
    _send(client, site, _paid(1, "2026-03-02T09:00:00Z"), _paid(2, "2026-04-10T09:00:00Z"))
    CustomerOrderDay.delete().execute()  # the ledger row is left without its days

    _send(
        client,
        site,
        _paid(1, "2026-03-02T09:00:00Z", status="cancelled", modified="2026-05-01T09:00:00Z"),
    )

    assert _days("ann@example.com") == [("2026-04-10", 1, "9999-12-31")]
    assert [str(r.first_day) for r in CustomerLedger.select()] == ["2026-04-10"]
