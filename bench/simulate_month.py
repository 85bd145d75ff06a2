"""A month of the demo store's revenue flows, as a store owner would live it, in minutes.

    .venv/bin/python bench/simulate_month.py --prism-port 4016 --out artifacts/month
    .venv/bin/python bench/simulate_month.py --prism http://127.0.0.1:4016 --days 30

The demo store of `make run` (the demo story: catalogue, shoppers, six months of orders, carts,
views and refunds, the demo's flow settings) is written up to --start; then the same story goes
on for --days days, hour by hour: each hour's events are applied at that hour, and the scheduler's
work runs at that moment (carts marked abandoned, lifecycle scans, the flow tick with its sends,
the nightly intelligence refresh). Time is `now` given to every call, never the wall clock.
SendGrid is played by Prism (scripts/prism.sh), so every mail is a real mail/send request.

People answer the mail as people do (seeded, so a run repeats): some unsubscribe from a marketing
mail, some addresses bounce or complain, a few customers withdraw consent in the store, a few ask
to be erased. The owner releases the first-start backlog (--backlog-per-day, 0 = not).

It prints mails per flow and step, per day, per person (max, distribution, per 7 days), and every
mail that should not have gone (unsubscribed, suppressed, no consent, bounced, erased, caps,
quiet hours, two of one flow at once, content checks), and writes each mail's HTML to --out.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.month_checks import People, report
from companion import pipeline
from companion.core import runtime
from companion.core.db import bind_database, database
from companion.core.settings import Settings
from companion.demo.catalogue import PRODUCTS
from companion.demo.seed import _finish, create_demo_site
from companion.demo.story import Story, StoryConfig
from companion.email.sendgrid import EmailEvent, SendGridTransport
from companion.flows.backlog import release
from companion.flows.config import Configs
from companion.flows.lifecycle import run_lifecycle_scans
from companion.flows.settlement import apply_provider_events
from companion.flows.tick import run_inline
from companion.flows.tracking import unsubscribe
from companion.ingest import receive
from companion.ingest.carts import mark_abandoned
from companion.intelligence.refresh import refresh_site
from companion.migrations import migrate_database
from companion.models import Message, Site
from companion.privacy import erase_person

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
ORDER_TYPES = ("order.updated", "order.refunded")
BATCH = 500
SECRET = "simulate-month-secret-0123456789abcdef"
# How people answer mail (per marketing mail received), and what they do in the store per day.
UNSUBSCRIBE, BOUNCE, COMPLAIN = 0.02, 0.008, 0.002
WITHDRAW_PER_DAY, ERASE_PER_WEEK = 2, 2
BROWSERS_PER_HOUR = 1  # known customers who view products and leave, 13:00-23:59 UTC


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--start", default="2026-11-02", help="first simulated day (UTC date)")
    p.add_argument("--days", type=int, default=30, help="simulated days of flow ticks")
    p.add_argument("--history-days", type=int, default=183, help="demo history before --start")
    p.add_argument("--orders-per-day", type=float, default=20.0, help="as `make run` (20)")
    p.add_argument("--seed", type=int, default=7, help="the demo story's seed (as the demo: 7)")
    p.add_argument("--database", help="database URL (default: a new SQLite file in a temp dir)")
    p.add_argument("--redis", default=None, help="Redis URL (default: in-process stand-in)")
    p.add_argument("--prism", help="a running Prism's URL (else one is started)")
    p.add_argument("--prism-port", type=int, default=4016, help="port for the Prism it starts")
    p.add_argument("--public-url", default="http://127.0.0.1:8530")
    p.add_argument("--backlog-per-day", type=int, default=50, help="0: the owner keeps it held")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "month"), help="rendered mails")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="check and print an earlier run again (--database, and --out holding its people.json)",
    )
    return p.parse_args()


def _start_prism(port: int) -> tuple[str, int]:
    out = subprocess.run(
        [str(ROOT / "scripts" / "prism.sh"), str(port)], check=True, capture_output=True, text=True
    ).stdout
    url, pid = re.search(r"PRISM_URL=(\S+)", out), re.search(r"PRISM_PID=(\d+)", out)
    assert url and pid, out
    return url.group(1), int(pid.group(1))


def _apply(site: Any, events: list[dict[str, Any]], now: datetime) -> None:
    """Carts and views before orders, in separate batches (as the plugin's batches come)."""
    first = [e for e in events if e["type"] not in ORDER_TYPES]
    then = [e for e in events if e["type"] in ORDER_TYPES]
    for group in (first, then):
        for start in range(0, len(group), BATCH):
            result = receive.store_batch(site, group[start : start + BATCH], now)
            assert not result.rejected, result.rejected[:3]
            pipeline.process_events(result.accepted_ids, now=now)


def _at(event: dict[str, Any]) -> datetime:
    return datetime.strptime(event["occurred_at"], "%Y-%m-%dT%H:%M:%SZ")


class Month:
    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args, self.settings = args, settings
        self.start = datetime.fromisoformat(args.start).replace(tzinfo=None)
        self.end = self.start + args.days * DAY
        self.rng = random.Random(args.seed + 1)
        self.people = People()
        self.pending: list[tuple[datetime, str, Any]] = []  # (when, what, message or email)
        self.later: list[dict[str, Any]] = []  # extra events that happen later (renewals)
        self.transport = SendGridTransport(api_key="SG.simulated", host=settings.sendgrid_host)

    def history(self) -> tuple[Any, list[dict[str, Any]]]:
        """The demo store up to --start, as `companion demo seed` writes it; the month's events."""
        site = create_demo_site().site
        story = Story(
            StoryConfig(
                days=self.args.history_days + self.args.days,
                orders_per_day=self.args.orders_per_day,
                store_url=site.url,
                timezone=site.timezone,
                currency=site.currency,
                seed=self.args.seed,
                now=self.end.replace(tzinfo=UTC),
            )
        )
        self.story = story
        past: list[dict[str, Any]] = []
        future: list[dict[str, Any]] = []
        for day in story.days():
            for event in day:
                (past if _at(event) <= self.start else future).append(event)
        stock = [
            story.product_event(
                p,
                self.start - timedelta(minutes=1),
                p.stock,
                "instock" if p.stock else "outofstock",
            )
            for p in PRODUCTS
        ]
        began = time.monotonic()
        day_events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in past:
            day_events[event["occurred_at"][:10]].append(event)
        for day in sorted(day_events):
            _apply(site, day_events[day], self.start)
        _apply(site, stock, self.start)
        _finish(site, self.start)
        self._log(f"history: {len(past):,} events in {time.monotonic() - began:.0f} s")
        future.sort(key=_at)
        return site, future

    def _log(self, line: str) -> None:
        if not self.args.quiet:
            print(line, flush=True)

    def run(self) -> None:
        site, future = self.history()
        self.site = site
        self.people.site_id = site.id
        if self.args.backlog_per_day:
            configs = Configs()
            for key in ("win_back", "vip", "replenishment"):
                out = release(
                    site.id, configs.flow(site, key), self.args.backlog_per_day, self.start
                )
                self._log(f"backlog released: {out}")
        moment, index, began = self.start, 0, time.monotonic()
        while moment < self.end:
            moment += HOUR
            hour: list[dict[str, Any]] = []
            while index < len(future) and _at(future[index]) <= moment:
                hour.append(self.people.as_store_sees(future[index]))
                index += 1
            hour += self._extras(moment)
            if hour:
                _apply(site, hour, moment)
            self._people_act(moment)
            mark_abandoned(moment)
            run_lifecycle_scans(moment)
            if moment.hour == 3:
                refresh_site(site, moment)
            run_inline(self.settings, moment, self.transport)
            self._answer_new_mail(moment)
            if moment.hour == 0:
                self._log(
                    f"{moment:%Y-%m-%d}: {Message.select().count():,} mails "
                    f"({time.monotonic() - began:.0f} s)"
                )

    def _extras(self, moment: datetime) -> list[dict[str, Any]]:
        """What the demo story does not do, so that all eight flows run: known customers who look
        at products and leave (browse abandonment), and a coffee-club subscription a day, some
        renewed before they expire (renewal reminders)."""
        rng, story, events = self.rng, self.story, []
        known = [s for s in story.shoppers if s.orders]
        for _ in range(BROWSERS_PER_HOUR if 13 <= moment.hour <= 23 else 0):
            shopper = rng.choice(known)
            for n, product in enumerate(rng.sample(PRODUCTS, rng.randint(1, 3))):
                at = moment - timedelta(minutes=50 - 5 * n)
                event = _event(
                    "product.viewed",
                    at,
                    shopper.contact(),
                    {
                        "product_id": product.id,
                        "name": product.name,
                        "price": str(product.price),
                        "url": product.url(self.site.url),
                        "categories": [product.category],
                    },
                )
                events.append(self.people.as_store_sees(event))
        if moment.hour == 17:
            shopper = rng.choice(known)
            sub = f"club-{shopper.number}-{moment:%m%d}"
            expires = moment + timedelta(days=rng.randint(5, 40))
            events.append(self._subscription(sub, shopper, moment, expires))
            if rng.random() < 0.3:
                renewed = self._subscription(sub, shopper, expires - 2 * DAY, expires + 30 * DAY)
                self.later.append(renewed)
        due = [e for e in self.later if _at(e) <= moment]
        self.later = [e for e in self.later if _at(e) > moment]
        return events + due

    def _subscription(
        self, sub: str, shopper: Any, at: datetime, expires: datetime
    ) -> dict[str, Any]:
        return self.people.as_store_sees(
            _event(
                "subscription.updated",
                at,
                shopper.contact(),
                {
                    "id": sub,
                    "kind": "subscription",
                    "status": "active",
                    "product_id": PRODUCTS[0].id,
                    "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "renewal_url": f"{self.site.url}/my-account/subscriptions/{sub}",
                },
            )
        )

    # -- people ---------------------------------------------------------------------------------
    def _answer_new_mail(self, moment: datetime) -> None:
        fresh = Message.select().where(
            Message.site == self.site.id, Message.created_at > moment - HOUR
        )
        for m in fresh:
            self.people.mailed(m)
            roll = self.rng.random()
            later = moment + timedelta(minutes=self.rng.randint(5, 600))
            if m.is_marketing and roll < UNSUBSCRIBE:
                self.pending.append((later, "unsubscribe", m.id))
            elif roll < UNSUBSCRIBE + BOUNCE:
                self.pending.append((moment + timedelta(minutes=2), "bounce", m.id))
            elif roll < UNSUBSCRIBE + BOUNCE + COMPLAIN:
                self.pending.append((later, "spamreport", m.id))
        if moment.hour == 15:
            for email in self.people.pick(self.rng, WITHDRAW_PER_DAY):
                self.pending.append((moment + timedelta(minutes=20), "withdraw", email))
        if moment.hour == 16 and moment.weekday() == 2:
            for email in self.people.pick(self.rng, ERASE_PER_WEEK):
                self.pending.append((moment + timedelta(minutes=30), "erase", email))

    def _people_act(self, moment: datetime) -> None:
        due = sorted((p for p in self.pending if p[0] <= moment), key=lambda p: p[0])
        self.pending = [p for p in self.pending if p[0] > moment]
        for at, what, target in due:
            if what in ("unsubscribe", "bounce", "spamreport"):
                message = Message.get_or_none(Message.id == target)
                if message is None or message.to_email.startswith("erased"):
                    continue
                self.people.blocked(message.to_email, what, at)
                if what == "unsubscribe":
                    unsubscribe(message, at)
                else:
                    event = EmailEvent(
                        what,
                        message.to_email,
                        at.replace(tzinfo=UTC),
                        f"ev{message.id}",
                        message.provider_id,
                        message.uuid,
                        bounce_type="bounce",
                    )
                    apply_provider_events([event], at)
            elif what == "withdraw":
                self.people.blocked(target, "no consent", at)
                consent = {"email": target, "marketing_consent": False}
                _apply(self.site, [_consent_event(consent, at)], at)
            elif what == "erase":
                self.people.blocked(target, "erased", at)
                erase_person(self.site.id, target, self.settings.secret_key, at)


def _event(kind: str, at: datetime, contact: dict[str, Any], data: dict[str, Any]) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "source": "woocommerce",
        "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "contact": contact,
        "data": data,
    }


def _consent_event(contact: dict[str, Any], at: datetime) -> dict[str, Any]:
    return _event("consent.updated", at, contact, {"marketing_consent": False})


def main() -> int:
    args = _args()
    prism_pid = None
    host = args.prism
    if not host and not args.report_only:
        host, prism_pid = _start_prism(args.prism_port)
    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='month-')}/month.db"
    settings = Settings(
        database_url=url,
        redis_url=args.redis,
        secret_key=SECRET,
        sendgrid_api_key="SG.simulated",
        sendgrid_host=host or "http://127.0.0.1:9",
        public_url=args.public_url,
    )
    runtime.configure(settings)
    db = bind_database(url)
    database.initialize(db)
    began = time.monotonic()
    try:
        with db.connection_context():
            migrate_database(db)
            out, start = Path(args.out), datetime.fromisoformat(args.start)
            if args.report_only:
                people = People.load(out / "people.json")
                site = Site.get_by_id(people.site_id)
            else:
                month = Month(args, settings)
                month.run()
                site, people = month.site, month.people
                out.mkdir(parents=True, exist_ok=True)
                people.save(out / "people.json")
            problems = report(site, people, settings, out, start)
    finally:
        if prism_pid:
            subprocess.run(["kill", str(prism_pid)], check=False)
    print(f"\nsimulated {args.days} days in {time.monotonic() - began:.0f} s; database {url}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
