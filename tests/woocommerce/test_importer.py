"""`WooImporter` against a local WooCommerce-shaped server: pages, faults, resume, idempotence."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from companion.woocommerce.importer import JsonFileCheckpoints, WooImporter, WooImportError
from tests.woocommerce.woo_data import history, make_order, served_sums
from tests.woocommerce.woo_fake_shop import FakeShop
from tests.woocommerce.woo_sink import RecordingSink

Start = Callable[..., FakeShop]
Build = Callable[..., WooImporter]


def test_it_imports_exactly_what_the_shop_serves_through_500s_429s_and_a_dropped_connection(
    start_shop: Start, importer_for: Build, sink: RecordingSink, waits: list[float]
) -> None:
    data = history(orders=437, products=120, customers=101)
    shop = start_shop(data)
    shop.faults = {2: 500, 3: (429, "7"), 5: "drop", 6: 503, 9: "drop", 12: 502}

    summary = importer_for(shop).run()

    assert len(sink.of_type("order.updated")) == 437
    assert len(sink.of_type("order.refunded")) == len(data["refunds"])
    assert len(sink.of_type("product.updated")) == 120
    assert len(sink.of_type("customer.updated")) == 101
    assert sink.sums() == served_sums(data["orders"])
    assert summary.imported == {"orders": 437, "products": 120, "customers": 101}
    assert len(sink.all()) == len(sink.unique())  # no page was delivered twice
    assert 7.0 in waits


def test_it_asks_for_100_per_page_in_id_order_and_one_sink_call_per_page(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    shop = start_shop(history(orders=250))

    importer_for(shop, resources=["orders"]).run()

    pages = [params for path, params in shop.requests if path.endswith("/orders")]
    assert {(p["per_page"], p["orderby"], p["order"]) for p in pages} == {("100", "id", "asc")}
    assert len(pages) == 3 and len(sink.batches) == 3
    assert [e["data"]["id"] for e in sink.all() if e["type"] == "order.updated"] == [
        o["id"] for o in shop.collections["orders"]
    ]


def test_refund_dates_come_from_the_refunds_endpoint_in_one_call_per_page(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    shop = start_shop(history(orders=100))

    importer_for(shop, resources=["orders"]).run()

    assert shop.paths().count("/wp-json/wc/v3/refunds") == 1
    assert {e["data"]["created_at"] for e in sink.of_type("order.refunded")} == {
        "2024-06-02T09:30:00Z"
    }


def test_before_woocommerce_9_refund_dates_come_from_each_refunded_order(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    data = history(orders=60)
    shop = start_shop(data, global_refunds=False)

    importer_for(shop, resources=["orders"]).run()

    per_order = [p for p in shop.paths() if p.endswith("/refunds") and "/orders/" in p]
    assert len(per_order) == len(data["refunds"])
    assert {e["data"]["created_at"] for e in sink.of_type("order.refunded")} == {
        "2024-06-02T09:30:00Z"
    }


def test_a_429_waits_as_long_as_retry_after_says(
    start_shop: Start, importer_for: Build, waits: list[float]
) -> None:
    shop = start_shop(history(orders=5))
    shop.faults = {1: (429, "11")}

    importer_for(shop, resources=["orders"]).run()

    assert waits == [11.0]


def test_a_shop_that_keeps_failing_stops_with_a_resumable_error_and_a_rerun_finishes(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    data = history(orders=350)
    shop = start_shop(data)
    shop.faults = {n: 500 for n in range(4, 7)}  # page 1 and its refunds pass, then 3 failures

    with pytest.raises(WooImportError, match="run the same import again to resume"):
        importer_for(shop, resources=["orders"], max_attempts=3).run()
    delivered = len(sink.of_type("order.updated"))
    importer_for(shop, resources=["orders"], max_attempts=3).run()

    assert 0 < delivered < 350
    assert len(sink.of_type("order.updated")) == 350
    assert sink.sums() == served_sums(data["orders"])


def test_ctrl_c_in_the_middle_then_resume_gives_the_same_result_as_one_run(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    data = history(orders=530, products=150, customers=40)
    shop = start_shop(data)
    one_run = RecordingSink()
    importer_for(shop, sink=one_run).run()

    sink.fail_after = 4
    with pytest.raises(KeyboardInterrupt):
        importer_for(shop).run()
    sink.fail_after = None
    importer_for(shop).run()

    assert sink.unique() == one_run.unique()
    assert len(sink.all()) == len(
        one_run.all()
    )  # the interrupted page was not accepted, so not counted


def test_running_twice_yields_only_duplicates(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    shop = start_shop(history(orders=220, products=30, customers=30))

    importer_for(shop).run()
    first = sink.unique()
    importer_for(shop).run()

    assert sink.unique() == first
    assert len(sink.all()) == 2 * len(first)


def test_since_asks_for_changes_after_that_utc_time_only(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    data = history(orders=120, customers=3)
    data["customers"][0]["date_modified_gmt"] = "2024-05-20T00:00:00"
    shop = start_shop(data)
    since = datetime(2024, 5, 15, 14, 0, tzinfo=UTC).astimezone()  # any zone, same moment

    importer_for(shop, since=since, resources=["orders", "customers"]).run()

    asked = [p for path, p in shop.requests if path.endswith("/orders")]
    assert {p["modified_after"] for p in asked} == {"2024-05-15T14:00:00"}
    expected = {o["id"] for o in data["orders"] if o["date_modified_gmt"] > "2024-05-15T14:00:00"}
    assert {e["data"]["id"] for e in sink.of_type("order.updated")} == expected
    assert [e["contact"]["wp_user_id"] for e in sink.of_type("customer.updated")] == [1]


def test_a_naive_since_is_refused(start_shop: Start, importer_for: Build) -> None:
    with pytest.raises(ValueError, match="aware"):
        importer_for(start_shop(history(orders=1)), since=datetime(2024, 1, 1))


def test_orders_deleted_before_the_position_during_the_import_skip_nothing(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    data = history(orders=400)
    shop = start_shop(data)
    orders = shop.collections["orders"]
    assert isinstance(orders, list)
    deleted = [orders[5], orders[17], orders[150]]

    def delete_early_orders(request_number: int) -> None:
        if request_number == 5:  # after two pages of orders were read
            for order in deleted:
                orders.remove(order)

    shop.before_request.append(delete_early_orders)
    importer_for(shop, resources=["orders"]).run()

    imported = {e["data"]["id"] for e in sink.of_type("order.updated")}
    assert imported >= {o["id"] for o in orders}
    assert len(sink.all()) == len(sink.unique())


def test_orders_placed_during_the_import_are_included(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    shop = start_shop(history(orders=230))
    orders = shop.collections["orders"]
    assert isinstance(orders, list)
    shop.before_request.append(
        lambda n: orders.append(make_order(5000 + n, total="1.00")) if n in (2, 4) else None
    )

    importer_for(shop, resources=["orders"]).run()

    assert {e["data"]["id"] for e in sink.of_type("order.updated")} == {o["id"] for o in orders}
    assert len(orders) == 232


def test_plain_http_is_signed_with_oauth_1a_as_woocommerce_verifies_it(
    start_shop: Start, importer_for: Build, sink: RecordingSink
) -> None:
    shop = start_shop(history(orders=150))

    importer_for(shop, resources=["orders"], since=datetime(2024, 1, 1, tzinfo=UTC)).run()

    assert all(
        "oauth_signature" in params and "consumer_secret" not in params
        for _, params in shop.requests
    )
    assert len(sink.of_type("order.updated")) == 150


def test_a_wrong_secret_stops_at_once_with_woocommerces_message(
    start_shop: Start, importer_for: Build
) -> None:
    shop = start_shop(history(orders=3))

    with pytest.raises(WooImportError, match="401.*signature does not match.*key and secret"):
        importer_for(shop, secret="cs_wrong").run()
    assert len(shop.requests) == 1


def test_https_uses_basic_auth_with_the_key_and_secret(
    start_shop: Start, importer_for: Build, sink: RecordingSink, tls: dict[str, Any]
) -> None:
    shop = start_shop(history(orders=120), ssl_context=tls["server"])

    importer_for(shop, resources=["orders"], verify=tls["ca_file"]).run()

    assert shop.url.startswith("https://")
    assert all("oauth_signature" not in params for _, params in shop.requests)
    assert len(sink.of_type("order.updated")) == 120


def test_the_checkpoint_file_is_readable_by_a_new_process(tmp_path: Any) -> None:
    JsonFileCheckpoints(tmp_path / "c.json").save("orders", {"offset": 200, "last_id": 697})

    assert JsonFileCheckpoints(tmp_path / "c.json").load("orders") == {
        "offset": 200,
        "last_id": 697,
    }
    assert JsonFileCheckpoints(tmp_path / "c.json").load("products") is None


def test_the_progress_bar_shows_done_out_of_the_shops_total(
    start_shop: Start, importer_for: Build
) -> None:
    shop = start_shop(history(orders=230))
    out = io.StringIO()

    importer_for(
        shop,
        resources=["orders"],
        progress=True,
        console=Console(file=out, force_terminal=True, width=120),
    ).run()

    assert "230/230" in out.getvalue()
    assert "orders" in out.getvalue()
