"""Erasing while events arrive, batches are applied, flows tick and roll-ups are rebuilt: every
write path takes the write lock up front (BEGIN IMMEDIATE on SQLite) and waits for it, so nothing
answers 500 with "database is locked" and every count is exact afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from companion.core import runtime
from companion.core.db import database
from companion.metrics.rebuild import rebuild_site
from companion.models import Contact, DeadLetter, Order, RawEvent, Site, utcnow
from tests import factories as f
from tests.flows.store import Store, iso
from tests.helpers import bearer, post_events, run_jobs
from tests.privacy.world import rows_mentioning

ERASED = [f"gone{n}@example.com" for n in range(12)]
POSTERS, BATCHES = 2, 15


def _batch(poster: int, batch: int, at: datetime) -> list[dict[str, Any]]:
    email, key = f"new{poster}-{batch}@example.com", 1000 + 100 * poster + batch
    moment = iso(at)
    return [
        f.page_view(f"s-{key}", moment, email=email, url=f"https://shop.example/?ref={email}"),
        f.cart(f"cart-{key}", at=moment, email=email),
        f.order(key, modified=moment, created=moment, paid=moment, email=email),
    ]


def _thread(name: str, errors: list[str], work: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            with database.connection_context():
                work()
        except Exception as exc:  # noqa: BLE001 - every failure is asserted on below
            errors.append(f"{name}: {exc!r}")

    return threading.Thread(target=run, name=name)


def test_erases_racing_ingest_flow_ticks_and_rebuilds_all_succeed_with_exact_counts(
    app, client, site, settings
):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    for n, email in enumerate(ERASED):
        post_events(
            client,
            site,
            [f.order(n + 1, modified=iso(start), created=iso(start), paid=iso(start), email=email)],
        )
    run_jobs()
    errors: list[str] = []
    posting = threading.Event()
    posted = threading.Event()
    store = Store(site, settings)

    def erase() -> None:
        own = app.test_client()
        posting.wait(10)
        for email in ERASED:
            answer = own.post(
                f"/v1/sites/{site.site.public_id}/privacy/erase",
                json={"email": email},
                headers=bearer(site),
            )
            if answer.status_code != 200 or answer.get_json()["erased"]["contacts"] != 1:
                errors.append(
                    f"erase {email}: {answer.status_code} "
                    f"{answer.get_data(as_text=True).strip()[:200]}"
                )
            time.sleep(0.02)

    def post(poster: int) -> Callable[[], None]:
        def work() -> None:
            own = app.test_client()
            for batch in range(BATCHES):
                answer = post_events(
                    own, site, _batch(poster, batch, start + timedelta(minutes=batch))
                )
                posting.set()
                if answer.status_code != 202:
                    errors.append(
                        f"post {poster}/{batch}: {answer.status_code} "
                        f"{answer.get_data(as_text=True).strip()[:200]}"
                    )

        return work

    def apply() -> None:
        while not posted.is_set():
            run_jobs()
            time.sleep(0.01)
        run_jobs()

    def tick() -> None:
        for n in range(8):
            store.tick(start + timedelta(hours=2, minutes=10 * n))
            time.sleep(0.05)

    def rebuild() -> None:
        for _ in range(3):
            rebuild_site(Site.get_by_id(site.site.id), now=start + timedelta(hours=3))
            time.sleep(0.1)

    posters = [_thread(f"poster-{p}", errors, post(p)) for p in range(POSTERS)]
    others = [
        _thread("eraser", errors, erase),
        _thread("applier", errors, apply),
        _thread("ticker", errors, tick),
        _thread("rebuilder", errors, rebuild),
    ]
    for thread in posters + others:
        thread.start()
    for thread in posters:
        thread.join(120)
    posted.set()
    for thread in others:
        thread.join(120)
    run_jobs()
    store.tick(start + timedelta(hours=4))  # whatever the racing ticks left due

    assert errors == [], "\n".join(errors)
    assert runtime.queue().failed_job_registry.count == 0
    assert DeadLetter.select().count() == 0
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0
    assert RawEvent.select().count() == len(ERASED) + POSTERS * BATCHES * 3
    contacts = Contact.select().where(Contact.site == site.site.id)
    assert contacts.where(Contact.erased_at.is_null(False)).count() == len(ERASED)
    assert contacts.where(Contact.erased_at.is_null()).count() == POSTERS * BATCHES
    assert (
        Order.select().where(Order.site == site.site.id).count() == len(ERASED) + POSTERS * BATCHES
    )
    assert [rows_mentioning(email) for email in ERASED] == [[]] * len(ERASED)
    thanked = sorted(m.to_email for m in store.messages("post_purchase") if m.step == 1)
    new = sorted(f"new{p}-{b}@example.com" for p in range(POSTERS) for b in range(BATCHES))
    assert [email for email in thanked if not email.endswith("@erased.invalid")] == new
