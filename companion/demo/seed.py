"""Seed a demo store through the real event API: signed batches posted to the app, then the jobs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from companion.core.db import database
from companion.core.signing import sign
from companion.core.workers import run_burst
from companion.demo.catalogue import PRODUCTS
from companion.demo.emails import AB_SUBJECT_B, write_history
from companion.demo.story import Story, StoryConfig
from companion.flows.config import Configs, update_flows
from companion.flows.lifecycle import scan_replenishment, scan_vip, scan_win_back
from companion.ingest.carts import mark_abandoned
from companion.intelligence.refresh import refresh_site
from companion.metrics.rebuild import rebuild
from companion.models import Site
from companion.models.base import to_naive_utc
from companion.sites import NewSite, create_site

DEMO_NAME = "Demo Coffee Roasters"
DEMO_URL = "https://demo-store.example"
DEMO_TIMEZONE = "America/New_York"
BATCH_SIZE = 500
# What the demo's mail history offers (demo/emails.py subjects) is configured, so its flows' own
# copy and the steps that need an offer (win-back 2, VIP) match it; the footer has an address.
# The owner has said what runs out (beans, tea, filters), as a real owner would: the story's
# returning shoppers also buy gear again, and a month of the demo reminded people to "restock" a
# pour-over dripper.
DEMO_FLOW_SETTINGS: dict[str, Any] = {
    "settings": {"postal_address": "12 Roastery Lane, Brooklyn, NY 11201, United States"},
    "flows": {
        "win_back": {
            "coupon": {"code": "COMEBACK10", "description": "10% off your next bag"},
            "steps": [{"step": 1, "subject_b": AB_SUBJECT_B}],
        },
        "vip": {
            # a code to claim it, and nothing the shop's own orders contradict: the demo charges
            # shipping under $50 to everyone, so "free shipping" would have been false
            "reward": {
                "title": "15% off your next order",
                "code": "VIP15",
                "description": "our thank-you for being a regular",
            },
            "early_access_url": DEMO_URL + "/new-arrivals",
        },
        "replenishment": {"consumable": {"products": [p.id for p in PRODUCTS if p.consumable]}},
    },
}
BATCHES_PER_BURST = 20

Progress = Callable[[int, int], None]  # (days done, days in all)
Group = tuple[list[dict[str, Any]], bool]  # (events, must start a new batch)
ORDER_TYPES = ("order.updated", "order.refunded")


class DemoError(RuntimeError):
    """The store refused a demo batch; the message carries its answer."""


@dataclass(frozen=True)
class SeedResult:
    site: Site
    events: int
    orders: int
    email_orders: int
    seconds: float


def create_demo_site() -> NewSite:
    new = create_site(DEMO_NAME, DEMO_URL, DEMO_TIMEZONE, "USD")
    Site.update(options={"demo": True}).where(Site.id == new.site.id).execute()
    update_flows(new.site, DEMO_FLOW_SETTINGS)
    return new


def find_demo_site() -> Site | None:
    """The demo site if there is one, else the oldest site."""
    sites = list(Site.select().order_by(Site.id))
    demo = [s for s in sites if (s.options or {}).get("demo")]
    return (demo or sites or [None])[0]


def seed(
    app: Flask,
    site: Site,
    days: int,
    orders_per_day: float,
    *,
    seed_value: int = 7,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SeedResult:
    """Write `days` days of the demo shop into `site`, ending now, and apply every event."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    story = Story(
        StoryConfig(
            days=days,
            orders_per_day=orders_per_day,
            store_url=site.url,
            timezone=site.timezone,
            currency=site.currency,
            seed=seed_value,
            now=now,
        )
    )
    client = app.test_client()
    sent = orders = 0
    for posted, batch in enumerate(
        _batches(_days_with_progress(story, days, progress), BATCH_SIZE), start=1
    ):
        _post(client, site, batch)
        sent += len(batch)
        orders += sum(1 for e in batch if e["type"] == "order.updated")
        if posted % BATCHES_PER_BURST == 0:
            run_burst()
    closing = story.closing_stock()
    _post(client, site, closing)
    sent += len(closing)
    run_burst()
    emailed = _finish(site, to_naive_utc(now))
    return SeedResult(site, sent, orders, emailed, time.monotonic() - started)


def _days_with_progress(story: Story, days: int, progress: Progress | None) -> Iterator[Group]:
    """Each day as two groups: browsing and carts, then orders and refunds in a later batch.

    Within one batch the foundation applies orders before carts, so an order must come in a
    later batch than its cart for the cart to be marked converted.
    """
    for done, events in enumerate(story.days(), start=1):
        yield [e for e in events if e["type"] not in ORDER_TYPES], False
        yield [e for e in events if e["type"] in ORDER_TYPES], True
        if progress:
            progress(done, days)


def _batches(groups: Iterable[Group], size: int) -> Iterator[list[dict[str, Any]]]:
    """Pack groups into batches of at most `size`, cutting before every group that asks for it."""
    batch: list[dict[str, Any]] = []
    for events, cut_before in groups:
        if batch and (cut_before or len(batch) + len(events) > size):
            yield batch
            batch = []
        while len(events) > size:
            yield events[:size]
            events = events[size:]
        batch.extend(events)
    if batch:
        yield batch


def _post(client: Any, site: Site, events: list[dict[str, Any]]) -> None:
    body = json.dumps({"events": events}).encode()
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    answer = client.post(
        f"/v1/sites/{site.public_id}/events",
        data=body,
        headers={
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "Content-Type": "application/json",
            "webhook-signature": sign(site.secret, msg_id, stamp, body),
        },
    )
    if answer.status_code != 202 or answer.get_json().get("rejected"):
        raise DemoError(
            f"the event API answered {answer.status_code}: {answer.get_data(as_text=True)[:500]}"
        )


def _finish(site: Site, now: datetime) -> int:
    """What the scheduler would do next: carts idle an hour are abandoned; the email history is
    credited to its orders and the roll-ups are rebuilt to include it; the nightly intelligence
    refresh scores every customer (stages, RFM, predictions once the data gate is met); the first
    flow scan holds who already qualifies for win-back, VIP and replenishment (the backlog the
    owner may release from the flow's page), mailing nobody."""
    with database.connection_context():
        while mark_abandoned(now):
            pass
        with database.atomic():
            emailed = write_history(site)
        rebuild(now, site.public_id)
        refresh_site(site, now)
        configs = Configs()
        for scan in (scan_win_back, scan_vip, scan_replenishment):
            scan(site, configs, now)
    return emailed
