"""Benchmark: WooCommerce history import end to end from a local WooCommerce-shaped server.

    .venv/bin/python bench/bench_import.py [--orders 200000]

The shop runs in its own process and generates each page of orders on demand from the verbatim
REST order in shared/data (1 order in 20 refunded), so neither side holds the history. The
importer runs as `companion import woocommerce` does - HTTP with OAuth 1.0a signing, 100 orders
per page, refund dates fetched per page, every order mapped to events, a checkpoint file written
after each page - into a sink that only counts (point it at the real ingest to measure that too).
Prints orders/s and the importer's RSS at 10 %, 50 % and 100 % of the run: flat means it streams.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, overload

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from companion.woocommerce.importer import JsonFileCheckpoints, WooImporter
from tests.woocommerce.woo_data import documented_order
from tests.woocommerce.woo_fake_shop import KEY, SECRET, FakeShop

FIRST_ID = 1000
# --dated: the orders spread over four years in id order, as a shop's real history is (without
# it every order carries the documented order's dates, so each customer's orders share one moment)
HISTORY_START = datetime(2022, 1, 1)
HISTORY_SECONDS = 4 * 365 * 86_400


def order_moment(n: int, count: int) -> datetime:
    """When the n-th of `count` dated orders was created and paid."""
    return HISTORY_START + timedelta(seconds=n * HISTORY_SECONDS // max(count, 1))


class GeneratedOrders(Sequence[dict[str, Any]]):
    """n orders with ids 1000, 1002, ...; built when a page asks for them, never stored."""

    def __init__(self, count: int, dated: bool = False) -> None:
        self.size = count
        self.dated = dated
        self.template = json.dumps(documented_order())

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._order(i) for i in range(*index.indices(self.size))]
        return self._order(index)

    def _order(self, n: int) -> dict[str, Any]:
        order = json.loads(self.template)
        order_id = FIRST_ID + 2 * n
        order.update(
            id=order_id,
            number=str(order_id),
            total=f"{10 + n % 90}.{n % 100:02d}",
            currency=("USD", "EUR", "GBP")[n % 3],
            customer_id=n % 7,
            date_modified_gmt=f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00",
        )
        if self.dated:
            at = order_moment(n, self.size).isoformat()
            for name in ("date_created", "date_paid", "date_modified"):
                order.update({name: at, f"{name}_gmt": at})
        order["billing"]["email"] = f"buyer{n % 50_000}@example.com"
        if n % 20 == 0:
            order["refunds"] = [{"id": order_id + 1, "reason": "", "total": "-5.00"}]
        return order


class GeneratedRefunds:
    """The refund of every 20th order, looked up by id as /wc/v3/refunds?include= does; made
    three days after its order when the orders are dated."""

    def __init__(self, count: int = 0, dated: bool = False) -> None:
        self.count, self.dated = count, dated

    def __contains__(self, refund_id: object) -> bool:
        return isinstance(refund_id, int) and (refund_id - FIRST_ID - 1) % 40 == 0

    def __getitem__(self, refund_id: int) -> dict[str, Any]:
        return {
            "id": refund_id,
            "parent_id": refund_id - 1,
            "amount": "5.00",
            "reason": "",
            "date_created_gmt": (
                (
                    order_moment((refund_id - 1 - FIRST_ID) // 2, self.count) + timedelta(days=3)
                ).isoformat()
                if self.dated
                else "2024-06-01T12:00:00"
            ),
        }

    def values(self) -> Iterator[dict[str, Any]]:
        return iter(())


def serve(count: int, urls: Any) -> None:
    shop = FakeShop({"orders": GeneratedOrders(count)}, GeneratedRefunds())  # type: ignore[arg-type]
    urls.put(shop.start().url)
    while True:
        time.sleep(3600)


class CountingSink:
    """Counts what the importer delivers and samples this process's RSS at 10/50/100 %."""

    def __init__(self, expected: int) -> None:
        self.expected, self.orders, self.events = expected, 0, 0
        self.marks = {round(expected * p / 100): p for p in (10, 50, 100)}
        self.rss: dict[int, float] = {}

    def __call__(self, events: list[dict[str, Any]]) -> None:
        before = self.orders
        self.events += len(events)
        self.orders += sum(1 for e in events if e["type"] == "order.updated")
        for mark, percent in self.marks.items():
            if before < mark <= self.orders:
                self.rss[percent] = rss_mb()


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its high-water mark (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    urls: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.orders, urls), daemon=True)
    server.start()
    try:
        run(urls.get(timeout=30), args.orders)
    finally:
        server.terminate()


def run(url: str, count: int) -> None:
    sink = CountingSink(count)
    with tempfile.TemporaryDirectory() as folder:
        importer = WooImporter(
            url,
            KEY,
            SECRET,
            sink,
            JsonFileCheckpoints(Path(folder) / "c.json"),
            resources=["orders"],
            progress=False,
        )
        started = time.perf_counter()
        summary = importer.run()
        elapsed = time.perf_counter() - started
    assert sink.orders == summary.imported["orders"] == count, (sink.orders, summary.imported)
    peak = rss_mb("VmHWM")
    print(
        f"imported {count:,} orders ({sink.events:,} events) in {elapsed:.1f} s: "
        f"{count / elapsed:,.0f} orders/s"
    )
    print(
        "importer RSS MB at 10% / 50% / 100%: "
        + " / ".join(f"{sink.rss[p]:.1f}" for p in (10, 50, 100))
        + f"; peak {peak:.1f}"
    )


if __name__ == "__main__":
    main()
