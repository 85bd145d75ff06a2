"""How fast the dashboard's pages answer: on the demo store, and on a store with a million orders.

    # the demo store (seeded through the event API first unless --database-url names one)
    .venv/bin/python bench/bench_pages.py --days 180 --orders-per-day 40
    .venv/bin/python bench/bench_pages.py --database-url sqlite:////tmp/demo.db
    # a million orders written straight into the tables (no API: it would take hours), then
    # the roll-ups rebuilt with `companion rollups rebuild`'s own code
    .venv/bin/python bench/bench_pages.py --large 1000000

Each page is requested in-process through Flask's test client with a signed-in session (no
network), once ("first": cold caches, e.g. templates compiled and database pages read) and then
--repeat times; prints the first time, the median and the 95th percentile in ms, and the median
CPU time of this process per request (time.process_time: what the request itself computed, far
less sensitive than wall time to other work on a shared machine). Then the metrics API the same
way (a bench token is written to the site). A stored product outlook is dropped first, so the
products page's "first" is the first view of a day (bench/profile_page.py says where a page's
time goes); with --prepared the scheduler's job then computes it first, as after the site's
midnight, and "first" is the owner's first view of that day.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from companion.app import create_app
from companion.core.db import database, is_postgres
from companion.core.settings import Settings
from companion.dashboard.auth import login_link
from companion.demo.seed import create_demo_site, seed
from companion.ingest import contacts
from companion.metrics.rebuild import rebuild
from companion.models import Contact, Order, OrderItem, Product, Site, utcnow
from companion.sites import create_site, hash_token

PAGES = [
    ("overview, 30 days", "/"),
    ("overview, 90 days", "/?range=90d"),
    ("overview, 12 months", "/?range=365d"),
    ("customers", "/customers"),
    ("products, 30 days", "/products"),
    ("products, 90 days", "/products?range=90d"),
    ("flows", "/flows"),
    ("contact", "/contacts/{contact}"),
    ("CSV: top sellers", "/export/top_revenue.csv"),
    ("CSV: refund rates 90d", "/export/refund_rates.csv?range=90d"),
    ("CSV: forecast", "/export/forecast.csv"),
    ("CSV: pairs", "/export/pairs.csv"),
    ("CSV: channels 12 mo", "/export/channels.csv?range=365d"),
    ("CSV: top customers", "/export/top_customers.csv"),
    ("CSV: flows", "/export/flows.csv"),
]
# The API the plugin's dashboard widget and scripts call (a bench token is written to the site):
# the periods end yesterday, as a report would ask.
API = [
    ("/metrics 30 days, compare", "/metrics?from={d30}&to={last}&compare=previous"),
    ("/metrics 90 days, compare", "/metrics?from={d90}&to={last}&compare=previous"),
    ("/metrics 12 months, compare", "/metrics?from={d365}&to={last}&compare=previous"),
    (
        "/metrics/series 12 mo, day",
        "/metrics/series?metric=net_revenue&interval=day&from={d365}&to={last}",
    ),
    ("/metrics/breakdown product", "/metrics/breakdown?by=product&from={d90}&to={last}"),
]
API_TOKEN = "sc_bench_pages_token"


def app_for(url: str) -> Any:
    return create_app(
        Settings(
            database_url=url,
            secret_key="bench-secret-key-0123456789",
            public_url="http://bench.test",
            log_level="WARNING",
        )
    )


def seed_demo(app: Any, days: int, orders_per_day: float) -> None:
    with app.app_context():
        started = time.perf_counter()
        result = seed(app, create_demo_site().site, days, orders_per_day)
        print(
            f"seeded the demo store: {result.events:,} events, {result.orders:,} order snapshots "
            f"in {time.perf_counter() - started:.0f} s"
        )


def write_large_store(orders: int, seed_value: int = 7) -> None:
    """`orders` counted orders over three years with 1-3 items each, 35 % as many customers."""
    rng = random.Random(seed_value)
    site = create_site("Large Shop", "https://large.example", "Europe/Berlin", "EUR").site
    end = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    start = end - timedelta(days=3 * 365)
    products = [
        (str(p), f"Product {p}", round(rng.lognormvariate(3.2, 0.7), 2)) for p in range(1, 401)
    ]
    with database.atomic():
        Product.insert_many(
            [
                {
                    "site": site.id,
                    "source": "woocommerce",
                    "external_id": pid,
                    "name": name,
                    "price": str(price),
                    "stock_quantity": rng.randint(0, 500),
                    "updated_at": end,
                }
                for pid, name, price in products
            ]
        ).execute()
    customers = max(1, int(orders * 0.35))
    contact_ids = _write_contacts(site.id, customers)
    began = time.perf_counter()
    span = (end - start).total_seconds()
    for chunk in range(0, orders, 5000):
        with database.atomic():
            rows, lines = [], []
            for n in range(chunk, min(chunk + 5000, orders)):
                at = start + timedelta(seconds=span * (n + rng.random()) / orders)
                items = [rng.choice(products) for _ in range(rng.choice((1, 1, 2, 3)))]
                total = round(sum(p[2] for p in items), 2)
                rows.append(
                    {
                        "site": site.id,
                        "source": "woocommerce",
                        "external_id": str(n),
                        "number": str(n),
                        "status": "completed",
                        "currency": "EUR",
                        "total": str(total),
                        "contact": contact_ids[
                            min(int(rng.paretovariate(1.2)) - 1, customers - 1)
                            if rng.random() < 0.3
                            else rng.randrange(customers)
                        ],
                        "source_type": rng.choice(("organic", "typein", "referral", "utm")),
                        "utm_source": rng.choice((None, "google", "newsletter")),
                        "device": "mobile",
                        "payment_method": "stripe",
                        "created_at": at,
                        "paid_at": at,
                        "modified_at": at,
                        "snapshot_seq": n,
                        "is_counted": True,
                        "counted_at": at,
                    }
                )
                lines.append(items)
            Order.insert_many(rows).execute()
            ids = dict(
                Order.select(Order.external_id, Order.id)
                .where(
                    Order.site == site.id,
                    Order.source == "woocommerce",
                    Order.external_id.in_([r["external_id"] for r in rows]),
                )
                .tuples()
            )
            OrderItem.insert_many(
                [
                    {
                        "order": ids[r["external_id"]],
                        "site": site.id,
                        "product_id": p[0],
                        "name": p[1],
                        "quantity": 1,
                        "price": str(p[2]),
                        "total": str(p[2]),
                        "categories": [],
                    }
                    for r, items in zip(rows, lines, strict=True)
                    for p in items
                ]
            ).execute()
        if chunk % 100_000 == 0:
            print(f"  {chunk:,} orders written ({time.perf_counter() - began:.0f} s)", flush=True)
    _refresh_contact_totals(site.id)
    print(
        f"wrote {orders:,} orders for {customers:,} customers in {time.perf_counter() - began:.0f} "
        "s"
    )
    began = time.perf_counter()
    rebuild(utcnow(), site.public_id)
    print(f"rebuilt the roll-ups in {time.perf_counter() - began:.0f} s")


def _write_contacts(site_id: int, count: int) -> list[int]:
    for chunk in range(0, count, 5000):
        with database.atomic():
            Contact.insert_many(
                [
                    {
                        "site": site_id,
                        "email": f"c{n}@example.com",
                        "first_name": "C",
                        "last_name": str(n),
                    }
                    for n in range(chunk, min(chunk + 5000, count))
                ]
            ).execute()
    return [
        c
        for (c,) in Contact.select(Contact.id)
        .where(Contact.site == site_id)
        .order_by(Contact.id)
        .tuples()
    ]


def _refresh_contact_totals(site_id: int) -> None:
    ids = [c for (c,) in Contact.select(Contact.id).where(Contact.site == site_id).tuples()]
    for start in range(0, len(ids), 5000):
        contacts.recount_totals(site_id, ids[start : start + 5000])


def measure(
    app: Any, repeat: int, prepared: bool = False
) -> list[tuple[str, float, float, float, float, float | None]]:
    with app.app_context():
        site = Site.select().order_by(Site.id.desc()).first()
        contact = (
            Contact.select(Contact.id)
            .where(Contact.site == site.id, Contact.orders_count > 1)
            .first()
        )
        link = login_link(site, "http://bench.test").removeprefix("http://bench.test")
        Site.update(api_token_hash=hash_token(API_TOKEN)).where(Site.id == site.id).execute()
        _forget_outlook(site.id)
        if prepared:  # the scheduler's job ran after the site's midnight, before the owner came
            began = time.process_time()
            print(
                f"prepare_outlooks: {_prepare()} in {(time.process_time() - began) * 1000:.0f} ms"
            )
    client = app.test_client()
    assert client.get(link).status_code == 302
    last = datetime.now(UTC).date() - timedelta(days=1)
    days = {f"d{n}": last - timedelta(days=n - 1) for n in (30, 90, 365)}
    urls = [
        (name, f"/dashboard/{site.public_id}{path.format(contact=contact.id if contact else 0)}")
        for name, path in PAGES
    ] + [
        (name, f"/v1/sites/{site.public_id}{path.format(last=last, **days)}") for name, path in API
    ]
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    results = []
    for name, url in urls:
        began = time.perf_counter()
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, url
        answer.get_data()  # a streamed export is produced while it is read
        first = (time.perf_counter() - began) * 1000
        times, cpu = [], []
        server = _ServerCpu(app)
        for _ in range(repeat):
            began, began_cpu = time.perf_counter(), time.process_time()
            client.get(url, headers=headers).get_data()
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
        times.sort()
        results.append(
            (
                name,
                first,
                statistics.median(times),
                times[max(0, int(len(times) * 0.95) - 1)],
                statistics.median(cpu),
                server.per_request(repeat),
            )
        )
    return results


class _ServerCpu:
    """CPU time of the PostgreSQL backend serving these requests (the pool hands this
    single-threaded client the same connection each time), from /proc/<pid>/schedstat (ns; the
    server runs on this machine). On SQLite the database's work is in this process's CPU time."""

    def __init__(self, app: Any) -> None:
        self.pid = None
        with app.app_context():
            if is_postgres():
                database.connect(reuse_if_open=True)
                self.pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
                database.close()
        self.began = self._ns()

    def _ns(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/schedstat") as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, TypeError):
            return None

    def per_request(self, repeat: int) -> float | None:
        end = self._ns()
        if self.began is None or end is None or not repeat:
            return None
        return (end - self.began) / 1e6 / repeat


def _forget_outlook(site_id: int) -> None:
    """The products page's first view of a day computes the forecast and stalled products and
    stores them: drop what an earlier run stored, so "first" is that view (code without the
    stored outlook has nothing to drop)."""
    try:
        from companion.models.rollups import ProductOutlook  # noqa: PLC0415
    except ImportError:
        return
    ProductOutlook.delete().where(ProductOutlook.site == site_id).execute()


def _prepare() -> Any:
    from companion.intelligence.outlook import prepare_outlooks  # noqa: PLC0415 (newer code only)

    return prepare_outlooks(utcnow())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", help="an already seeded database (default: a new temp SQLite file)"
    )
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--orders-per-day", type=float, default=40)
    parser.add_argument(
        "--large", type=int, help="write this many orders straight into the tables instead"
    )
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--prepared",
        action="store_true",
        help="run the scheduler's outlook job before the first view (as after a site's midnight)",
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-pages-')}/bench.db"
    app = app_for(url)
    if not args.database_url:
        with app.app_context():
            write_large_store(args.large) if args.large else seed_demo(
                app, args.days, args.orders_per_day
            )
    print(
        f"\n{'page':<22} {'first ms':>9} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>7} "
        f"{'db cpu ms':>9}   ({args.repeat} requests each, {url}; db cpu: the PostgreSQL "
        "backend's, mean per request)"
    )
    for name, first, median, p95, cpu, server in measure(app, args.repeat, args.prepared):
        db_cpu = "-" if server is None else f"{server:.1f}"
        print(f"{name:<22} {first:>9.1f} {median:>10.1f} {p95:>8.1f} {cpu:>7.1f} {db_cpu:>9}")


if __name__ == "__main__":
    main()
