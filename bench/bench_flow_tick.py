"""Scheduler tick benchmark: 1,000,000 carts and 1,000,000 enrolments stored, one flow tick timed.

    .venv/bin/python bench/bench_flow_tick.py                       # PostgreSQL, full size
    .venv/bin/python bench/bench_flow_tick.py --carts 100000 --enrolments 100000 \\
        --database-url sqlite:////tmp/flowbench.db                  # smaller, any engine
    .venv/bin/python bench/bench_flow_tick.py --reuse               # keep the data of the last run

The tick is what the scheduler's job runs each minute (companion.flows.tick.tick): newly abandoned
carts and newly expiring subscriptions since the last scan, sends left `sending` too long, claims
left by dead workers, and the due steps handed to workers (not sent here: sending is the fan-out
benchmark's part). Before each measured tick, a minute's worth of new work appears: carts marked
abandoned, steps falling due. The query plans of every tick query are printed (--explain).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from peewee import sort_models

from companion.core.db import bind_database, database, is_mysql, is_postgres
from companion.flows import scans, settlement
from companion.flows import tick as flow_tick
from companion.migrations import SchemaVersion, migrate_database
from companion.models import (
    BaseModel,
    Cart,
    Contact,
    Enrolment,
    Message,
    MessageBody,
    ScheduledStep,
    Site,
    Subscription,
    utcnow,
)
from companion.models.messaging import FlowCursor

NOW = utcnow().replace(second=0)
FLOWS = ("post_purchase", "abandoned_cart", "browse_abandonment", "cross_sell", "win_back", "vip")
CONTACTS, SUBSCRIPTIONS, MESSAGES = 200_000, 200_000, 200_000


def _insert(model: Any, rows: Iterator[dict[str, Any]], total: int, label: str) -> None:
    began, batch, done = time.perf_counter(), [], 0
    size = 30_000 // len(model._meta.fields)  # stays under every engine's bound-parameter limit
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            with database.atomic():
                model.insert_many(batch).execute()
            done, batch = done + len(batch), []
    if batch:
        with database.atomic():
            model.insert_many(batch).execute()
    print(f"  {label}: {total:,} rows in {time.perf_counter() - began:.0f} s", flush=True)


def _carts(n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(n):
        roll = rng.random()
        status = (
            "converted"
            if roll < 0.4
            else "emptied"
            if roll < 0.5
            else "active"
            if roll < 0.52
            else "abandoned"
        )
        updated = (
            NOW - timedelta(minutes=rng.randint(90, 525_600))
            if status != "active"
            else NOW - timedelta(minutes=rng.randint(0, 50))
        )
        yield {
            "site": 1,
            "token": f"t{i}",
            "source": "woocommerce",
            "contact": 1 + i % CONTACTS,
            "currency": "EUR",
            "value": "29.90",
            "items": [{"product_id": 7, "quantity": 1}],
            "status": status,
            "created_at": updated,
            "updated_at": updated,
            "abandoned_at": updated + timedelta(hours=1) if status == "abandoned" else None,
        }


def _enrolments(n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(n):
        started = NOW - timedelta(minutes=rng.randint(0, 525_600))
        active = started > NOW - timedelta(days=7) or rng.random() < 0.02
        yield {
            "site": 1,
            "flow_key": FLOWS[i % len(FLOWS)],
            "key": f"k{i}",
            "contact": 1 + i % CONTACTS,
            "status": "active" if active else rng.choice(("completed", "exited")),
            "context": {},
            "started_at": started,
            "enrolled_at": started,
        }


def _steps(n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Two steps per enrolment; pending ones fall due over the next week (about 10 a minute)."""
    for i in range(n):
        for step in (1, 2):
            pending = rng.random() < 0.05
            due = (
                NOW + timedelta(minutes=rng.randint(1, 10_080))
                if pending
                else NOW - timedelta(minutes=rng.randint(1, 525_600))
            )
            yield {
                "site": 1,
                "enrolment": i + 1,
                "step": step,
                "due_at": due,
                "status": "pending" if pending else rng.choice(("done", "skipped", "cancelled")),
            }


def populate(carts: int, enrolments: int) -> None:
    rng = random.Random(8)
    print(
        f"populating: {carts:,} carts, {enrolments:,} enrolments, {2 * enrolments:,} steps, "
        f"{CONTACTS:,} contacts, {SUBSCRIPTIONS:,} subscriptions, {MESSAGES:,} messages",
        flush=True,
    )
    Site.insert(
        id=1,
        public_id="bench",
        name="Bench",
        url="https://shop.example",
        secret="whsec_AAAA",
        api_token_hash="x" * 64,
        options={},
    ).execute()
    _insert(
        Contact,
        ({"site": 1, "email": f"c{i}@example.com"} for i in range(CONTACTS)),
        CONTACTS,
        "contacts",
    )
    _insert(Cart, _carts(carts, rng), carts, "carts")
    _insert(Enrolment, _enrolments(enrolments, rng), enrolments, "enrolments")
    _insert(ScheduledStep, _steps(enrolments, rng), 2 * enrolments, "scheduled steps")
    _insert(
        Subscription,
        (
            {
                "site": 1,
                "source": "woocommerce",
                "external_id": str(i),
                "kind": "subscription",
                "status": "active",
                "contact": 1 + i % CONTACTS,
                "updated_at": NOW,
                "expires_at": NOW + timedelta(minutes=rng.randint(-525_600, 1_051_200)),
            }
            for i in range(SUBSCRIPTIONS)
        ),
        SUBSCRIPTIONS,
        "subscriptions",
    )
    MessageBody.insert(id=1, site=1, digest="d" * 64, html="<p>x</p>", text="x").execute()
    messages = min(MESSAGES, enrolments)
    _insert(
        Message,
        (
            {
                "uuid": f"00000000-0000-0000-0000-{i:012d}",
                "site": 1,
                "enrolment": 1 + i,
                "step": 1,
                "flow_key": "vip",
                "contact": 1 + i % CONTACTS,
                "to_email": "c@example.com",
                "from_email": "shop@example.com",
                "subject": "s",
                "body": 1,
                "status": "sent",
                "created_at": NOW - timedelta(minutes=i % 525_600),
            }
            for i in range(messages)
        ),
        messages,
        "messages",
    )


def analyze() -> None:
    tables = [
        m._meta.table_name for m in (Cart, Enrolment, ScheduledStep, Subscription, Message, Contact)
    ]
    if is_mysql():
        database.execute_sql(f"ANALYZE TABLE {', '.join(tables)}")
    else:
        database.execute_sql("ANALYZE")


def new_minute(moment: datetime, rng: random.Random) -> None:
    """A minute of new work: carts go idle and are marked abandoned, like mark_abandoned_carts."""
    ids = [
        c.id for c in Cart.select(Cart.id).where(Cart.status == "active").limit(rng.randint(5, 15))
    ]
    Cart.update(status="abandoned", abandoned_at=moment).where(Cart.id.in_(ids or [0])).execute()


def measure(ticks: int) -> list[float]:
    rng, times = random.Random(1), []
    for name in ("abandoned_carts", "expiring_subscriptions"):
        scans.move_cursor(name, NOW - timedelta(minutes=1))
    for i in range(ticks):
        moment = NOW + timedelta(minutes=i)
        new_minute(moment, rng)
        began = time.perf_counter()
        counts = flow_tick.tick(moment, lambda ids: None)
        times.append(time.perf_counter() - began)
        print(f"  tick {i + 1}: {times[-1] * 1000:.0f} ms  {counts}", flush=True)
    return times


def explain(queries: dict[str, Any]) -> None:
    for name, query in queries.items():
        sql, params = query.sql()
        prefix = (
            "EXPLAIN (ANALYZE, BUFFERS) "
            if is_postgres()
            else "EXPLAIN "
            if is_mysql()
            else "EXPLAIN QUERY PLAN "
        )
        rows = database.execute_sql(prefix + sql, params).fetchall()
        print(f"\n-- {name}\n" + "\n".join(" | ".join(str(c) for c in row) for row in rows))


def tick_queries(moment: datetime) -> dict[str, Any]:
    since = moment - timedelta(minutes=16)
    return {
        "newly abandoned carts": scans.newly_abandoned(since, moment),
        "subscriptions entering the reminder horizon": scans.expiring(
            since + scans.SUBSCRIPTION_HORIZON, moment + scans.SUBSCRIPTION_HORIZON
        ),
        "due steps": flow_tick.due_steps(moment),
        "sends left unanswered (mark uncertain)": Message.select(Message.id).where(
            Message.status == "sending", Message.sending_since < moment - settlement.SETTLE_AFTER
        ),
        "claims left by dead workers": ScheduledStep.select(ScheduledStep.id).where(
            ScheduledStep.status == "claimed",
            ScheduledStep.claimed_at < moment - settlement.CLAIM_TIMEOUT,
        ),
        "retries due": Message.select(Message.id)
        .where(Message.status == "retrying", Message.next_attempt_at <= moment)
        .limit(1),
    }


def _all_models() -> list[Any]:
    found: list[Any] = []
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model not in found and model is not SchemaVersion:
            found.append(model)
    return list(reversed(sort_models(found)))


def fresh_schema(db: Any) -> None:
    db.drop_tables([SchemaVersion, FlowCursor, *_all_models()], safe=True, cascade=is_postgres())
    migrate_database(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/companion_flowbench"
    )
    parser.add_argument("--carts", type=int, default=1_000_000)
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the rows of the previous run")
    parser.add_argument("--no-explain", dest="explain", action="store_false")
    args = parser.parse_args()
    db = bind_database(args.database_url)
    with db.connection_context():
        run(db, args, _engine(args.database_url))


def _engine(url: str) -> str:
    return url.split("://", 1)[0]


def run(db: Any, args: Any, engine: str) -> None:
    if not args.reuse or not Cart.table_exists():
        fresh_schema(db)
        populate(args.carts, args.enrolments)
        analyze()
    print(
        f"engine: {engine}  carts: {Cart.select().count():,}  enrolments: "
        f"{Enrolment.select().count():,}  "
        f"steps: {ScheduledStep.select().count():,}"
    )
    with (
        database.atomic() as transaction
    ):  # measured ticks change rows; roll back so --reuse stays comparable
        times = measure(args.ticks)
        if args.explain:
            explain(tick_queries(NOW + timedelta(minutes=args.ticks)))
        transaction.rollback()
    print(
        f"\ntick: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"(target < 1000 ms)"
    )


if __name__ == "__main__":
    main()
