"""`companion import woocommerce` against a local WooCommerce-shaped shop: complete, resumable,
idempotent."""

from __future__ import annotations

import signal
import threading
from collections import defaultdict
from decimal import Decimal
from typing import Any

from peewee import fn

from companion.core.db import database, is_mysql, is_postgres
from companion.models import Contact, ImportCheckpoint, Order, RawEvent, Refund
from companion.models.base import money_from_units
from companion.woocommerce import import_run
from tests.helpers import bearer, run_jobs
from tests.woocommerce.service.webhooks import deliver
from tests.woocommerce.woo_data import history, served_sums
from tests.woocommerce.woo_fake_shop import FakeShop


def expected_profiles(orders: list[dict[str, Any]]) -> dict[str, tuple[int, Decimal, Decimal]]:
    """Per buyer, as the shop holds it: (orders, sum of totals, sum of refunds)."""
    found: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for order in orders:
        entry = found[order["billing"]["email"]]
        entry[0] += 1
        entry[1] += Decimal(order["total"])
        entry[2] += sum((-Decimal(r["total"]) for r in order["refunds"]), Decimal(0))
    return {email: (n, total, refunded) for email, (n, total, refunded) in found.items()}


def profiles(
    client: Any, new_site: Any, emails: list[str]
) -> dict[str, tuple[int, Decimal, Decimal]]:
    found = {}
    for email in emails:
        p = client.get(
            f"/v1/sites/{new_site.site.public_id}/contacts/{email}", headers=bearer(new_site)
        ).json
        found[email] = (p["orders_count"], Decimal(p["total_spent"]), Decimal(p["refunded"]))
    return found


def stored_sums(site_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    """Per currency: (order totals, refunds) as the service stored them."""
    totals = (
        Order.select(Order.currency, fn.SUM(Order.total).coerce(False))
        .where(Order.site == site_id)
        .group_by(Order.currency)
        .tuples()
    )
    refunds = dict(
        Refund.select(Order.currency, fn.SUM(Refund.amount).coerce(False))
        .join(Order)
        .where(Refund.site == site_id)
        .group_by(Order.currency)
        .tuples()
    )
    return {cur: (money_from_units(t), money_from_units(refunds.get(cur, 0))) for cur, t in totals}


def state(site_id: int) -> tuple[Any, ...]:
    contacts = sorted(
        Contact.select(Contact.email, Contact.orders_count, Contact.total_spent, Contact.refunded)
        .where(Contact.site == site_id)
        .tuples()
    )
    return (contacts, RawEvent.select().count(), Order.select().count(), Refund.select().count())


def interrupt_on(shop: FakeShop, resource: str, offset: str) -> None:
    """Ctrl-C while the importer waits for that page (once), as a person at the terminal would:
    a real SIGINT to the main thread, which is blocked reading the answer, so KeyboardInterrupt is
    raised there and then. (`_thread.interrupt_main` only sets a flag that the main thread acts on
    when it next runs Python code, wherever that is, a finaliser that swallows it included: once in
    three PostgreSQL passes the import then ran to its end.)"""
    fired: list[int] = []
    main = threading.main_thread().ident
    assert main is not None

    def hook(_number: int) -> None:
        path, params = shop.requests[-1]
        if not fired and path.endswith("/" + resource) and params.get("offset") == offset:
            fired.append(1)
            signal.pthread_kill(main, signal.SIGINT)

    shop.before_request.append(hook)


def test_the_import_yields_profiles_whose_counts_and_sums_equal_what_the_shop_served(
    client, site, start_shop, import_command
):
    data = history(orders=250, products=3, customers=4)
    shop = start_shop(data)

    result = import_command(site, shop)

    assert result.exit_code == 0, result.output
    assert "Imported 250 orders, 3 products, 4 customers" in result.output
    assert "Profiles and metrics are up to date." in result.output
    expected = expected_profiles(data["orders"])
    assert profiles(client, site, sorted(expected)) == expected
    assert stored_sums(site.site.id) == served_sums(data["orders"])
    assert Contact.select().where(Contact.email.startswith("customer")).count() == 4
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0


def test_an_interrupted_import_resumes_where_it_stopped_and_ends_complete(
    client, site, start_shop, import_command
):
    data = history(orders=250)
    shop = start_shop(data)
    interrupt_on(shop, "orders", offset="198")  # the third page

    stopped = import_command(site, shop)

    assert stopped.exit_code == 130
    assert "run the same command again to resume" in stopped.output
    assert RawEvent.select().where(RawEvent.type == "order.updated").count() == 199
    cursor = ImportCheckpoint.get(
        ImportCheckpoint.site == site.site.id, ImportCheckpoint.resource == "orders"
    ).cursor
    assert (cursor["offset"], cursor["complete"]) == (199, False)

    shop.requests.clear()
    resumed = import_command(site, shop)

    assert resumed.exit_code == 0, resumed.output
    first_page = next(params for path, params in shop.requests if path.endswith("/orders"))
    assert first_page["offset"] == "198"  # from where it stopped, not from the start
    expected = expected_profiles(data["orders"])
    assert profiles(client, site, sorted(expected)) == expected


def orders_analyzed() -> int:
    if not is_postgres():
        return 0
    return database.execute_sql(
        "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'order'"
    ).fetchone()[0]


def test_a_long_import_applies_in_a_second_process_while_it_fetches(
    client, site, start_shop, import_command, monkeypatch
):
    started: list[import_run.ApplyingProcess] = []

    class Recorded(import_run.ApplyingProcess):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(
        import_run, "APPLY_EVERY_PAGES", 1
    )  # as 10 pages of 100 do in a real import
    monkeypatch.setattr(import_run, "ApplyingProcess", Recorded)
    data = history(orders=250)
    analyzed = orders_analyzed()

    result = import_command(site, start_shop(data))

    assert result.exit_code == 0, result.output
    assert len(started) == 1 and started[0].process.exitcode == 0
    if is_postgres():  # the planner's statistics follow the import's growth (import_run.Statistics)
        assert orders_analyzed() > analyzed
    assert started[0].stores is not (
        is_postgres() or is_mysql()
    )  # SQLite's one writer is the child
    expected = expected_profiles(data["orders"])
    assert profiles(client, site, sorted(expected)) == expected
    assert stored_sums(site.site.id) == served_sums(data["orders"])
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0


def test_if_the_applying_process_dies_the_import_stops_resumably_and_a_rerun_completes(
    client, site, start_shop, import_command, monkeypatch
):
    original = import_run.ApplyingProcess

    class Dying(original):  # type: ignore[valid-type, misc]
        def send(self, message: tuple[Any, ...]) -> None:
            if message[0] in (
                "page",
                "stored",
            ):  # SQLite: it stores; PostgreSQL/MariaDB: it applies
                self.process.kill()  # as the OOM killer would, with pages still to store
                self.process.join()
            super().send(message)

    monkeypatch.setattr(import_run, "APPLY_EVERY_PAGES", 1)
    monkeypatch.setattr(import_run, "ApplyingProcess", Dying)
    data = history(orders=250)
    shop = start_shop(data)

    stopped = import_command(site, shop)

    assert stopped.exit_code == 1
    assert "the process applying the import stopped" in stopped.output
    assert "run the same import again to resume" in stopped.output
    monkeypatch.setattr(import_run, "ApplyingProcess", original)
    resumed = import_command(site, shop)
    assert resumed.exit_code == 0, resumed.output
    expected = expected_profiles(data["orders"])
    assert profiles(client, site, sorted(expected)) == expected
    assert stored_sums(site.site.id) == served_sums(data["orders"])
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0


def test_a_failing_shop_stops_the_import_with_where_it_stopped_and_a_rerun_completes(
    client, site, start_shop, import_command
):
    data = history(orders=150)
    shop = start_shop(data)
    shop.faults = {3: 403}  # the second page of orders: a firewall that suddenly says no

    stopped = import_command(site, shop)

    assert stopped.exit_code == 1
    assert (
        "WooCommerce answered 403" in stopped.output
        and "run the same import again to resume" in stopped.output
    )
    shop.faults = {}
    assert import_command(site, shop).exit_code == 0
    expected = expected_profiles(data["orders"])
    assert profiles(client, site, sorted(expected)) == expected


def test_running_the_import_again_changes_nothing(client, site, start_shop, import_command):
    data = history(orders=120, products=2, customers=2)
    shop = start_shop(data)
    import_command(site, shop)
    before = state(site.site.id)

    again = import_command(site, shop)

    assert again.exit_code == 0, again.output
    events = before[1]
    assert f"0 new events stored, {events:,} already there" in again.output
    assert state(site.site.id) == before


def test_since_imports_only_what_changed_from_midnight_in_the_sites_time_zone(
    site, start_shop, import_command
):
    data = history(orders=120)
    shop = start_shop(data)
    # The site is in Europe/Berlin: 2024-05-20 begins at 2024-05-19T22:00:00 UTC.
    changed = [o for o in data["orders"] if o["date_modified_gmt"] > "2024-05-19T22:00:00"]

    result = import_command(site, shop, "--since", "2024-05-20")

    assert result.exit_code == 0, result.output
    assert f"Imported {len(changed)} orders" in result.output
    assert Order.select().count() == len(changed) < 120
    assert all(
        p.get("modified_after") == "2024-05-19T22:00:00"
        for path, p in shop.requests
        if path.endswith("/orders")
    )


def test_with_redis_the_import_queues_the_events_and_a_worker_applies_them(
    client, site, start_shop, import_command
):
    data = history(orders=60)
    shop = start_shop(data)

    result = import_command(site, shop, redis=True)

    assert result.exit_code == 0, result.output
    assert "queued" in result.output
    assert (
        RawEvent.select().where(RawEvent.processed_at.is_null()).count()
        == RawEvent.select().count()
        > 0
    )
    run_jobs()
    expected = expected_profiles(data["orders"])
    assert profiles(client, site, sorted(expected)) == expected


def test_a_wrong_secret_stops_at_once_with_woocommerces_answer(site, start_shop, import_command):
    shop = start_shop(history(orders=5))
    shop.secret = "cs_not_what_the_shop_has"

    result = import_command(site, shop)

    assert result.exit_code == 1
    assert (
        "WooCommerce answered 401" in result.output and "check the key and secret" in result.output
    )
    assert RawEvent.select().count() == 0


def test_bad_arguments_are_explained(site, start_shop, import_command):
    shop = start_shop(history(orders=1))

    bad_since = import_command(site, shop, "--since", "last tuesday")

    assert bad_since.exit_code == 2 and "2024-05-01" in bad_since.output


def test_each_site_keeps_its_own_place_in_the_same_shop(
    site, other_site, start_shop, import_command
):
    shop = start_shop(history(orders=150))
    interrupt_on(shop, "orders", offset="99")
    import_command(site, shop)

    other = import_command(other_site, shop)

    assert other.exit_code == 0 and "Imported 150 orders" in other.output
    mine = ImportCheckpoint.get(
        ImportCheckpoint.site == site.site.id, ImportCheckpoint.resource == "orders"
    )
    assert (mine.cursor["offset"], mine.cursor["complete"]) == (100, False)
    assert Order.select().where(Order.site == other_site.site.id).count() == 150


def test_an_order_received_by_webhook_and_then_imported_is_one_event(
    client, woo_site, start_shop, import_command
):
    data = history(orders=3)
    deliver(client, woo_site, "order.updated", data["orders"][1])
    shop = start_shop(data)

    result = import_command(woo_site, shop, "--since", "2024-01-01")

    assert result.exit_code == 0, result.output
    assert "already there" in result.output and ", 1 already there" in result.output
    assert Order.select().count() == 3
