"""CPU per order of the history import's own side: fetch a page from a local WooCommerce-shaped
shop, map it to events and check them (`prepare_batch`), with no database. This is the command's
share of `companion import woocommerce`; the applying process does the rest (bench_import_e2e).

    .venv/bin/python -m bench.import_command_cpu --orders 10000

CPU time (process_time), so other programs on the machine inflate it much less than seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_import import serve
from companion.ingest.receive import prepare_batch
from companion.woocommerce.importer import JsonFileCheckpoints, WooImporter
from tests.woocommerce.woo_fake_shop import KEY, SECRET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args()
    urls: Any = multiprocessing.Queue()
    shop = multiprocessing.Process(target=serve, args=(args.orders, urls), daemon=True)
    shop.start()
    checking = 0.0

    def sink(events: list[dict[str, Any]]) -> None:
        nonlocal checking
        started = time.process_time()
        prepare_batch(events)
        checking += time.process_time() - started

    try:
        with tempfile.TemporaryDirectory() as folder:
            importer = WooImporter(
                urls.get(timeout=30),
                KEY,
                SECRET,
                sink,
                JsonFileCheckpoints(Path(folder) / "c.json"),
                resources=["orders"],
                progress=False,
            )
            started = time.process_time()
            importer.run()
            total = time.process_time() - started
    finally:
        shop.terminate()
    per_order = 1000 / args.orders
    print(
        f"{args.orders:,} orders: {total * per_order:.3f} ms of CPU per order on the command's "
        f"side (fetch, map, check), of which the check {checking * per_order:.3f}"
    )


if __name__ == "__main__":
    main()
