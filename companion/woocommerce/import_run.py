"""The WooCommerce history import wired into the service.

`WooImporter` (companion.woocommerce.importer) pages through the shop; here its checkpoints live in
the
database, keyed by (site, resource), so a rerun on any machine resumes, and each page takes the
same path as the plugin's batches: stored once per event id, then applied by the jobs. With no
separate worker (embedded mode: no COMPANION_REDIS_URL) the command applies them itself as it goes,
so profiles are complete when it ends: in a child process once the history is large, so fetching,
mapping and validating the next pages overlaps applying the previous ones (two cores, twice the
speed of doing both in turn). On SQLite the child also stores the pages (one writer); on PostgreSQL
and MariaDB, which take concurrent writers, the command stores them and the child only applies.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from companion import pipeline
from companion.core import heap, runtime
from companion.core.db import (
    bind_database,
    database,
    is_mysql,
    is_postgres,
    quote,
    write_transaction,
)
from companion.core.workers import run_burst
from companion.ingest.receive import BatchResult, prepare_batch, store_prepared
from companion.models import (
    Contact,
    ImportCheckpoint,
    Order,
    OrderItem,
    Product,
    RawEvent,
    Refund,
    Site,
    utcnow,
)
from companion.models.rollups import CustomerLedger, CustomerOrderDay
from companion.pipeline import unprocessed_ids
from companion.woocommerce.importer import RESOURCES, ImportSummary, WooImporter, WooImportError
from jobs.events import accept_events, process_events

APPLY_EVERY_PAGES = 10  # embedded mode: one processing transaction per 10 pages (~1,000 orders)
AHEAD_PAGES = (
    20  # embedded mode: how many prepared pages the fetching may run ahead of the database
)

log = logging.getLogger(__name__)


class DatabaseCheckpoints:
    """The importer's CheckpointStore in the `import_checkpoint` table of one site. While an
    applying process writes for the import, saves go to it, after the pages before them."""

    def __init__(self, site_id: int) -> None:
        self.site_id = site_id
        self.sink: ServiceSink | None = None

    def load(self, resource: str) -> dict[str, Any] | None:
        row = ImportCheckpoint.get_or_none(
            ImportCheckpoint.site == self.site_id, ImportCheckpoint.resource == resource
        )
        return row.cursor if row is not None and isinstance(row.cursor, dict) else None

    def save(self, resource: str, cursor: dict[str, Any]) -> None:
        if self.sink is not None and self.sink.applier is not None and self.sink.applier.stores:
            self.sink.applier.send(("checkpoint", resource, cursor))
        else:
            save_checkpoint(self.site_id, resource, cursor)


def save_checkpoint(site_id: int, resource: str, cursor: dict[str, Any]) -> None:
    # Insert-or-ignore then update: the same two statements on SQLite, PostgreSQL and MariaDB.
    with write_transaction():
        ImportCheckpoint.insert(
            site=site_id, resource=resource, cursor=cursor, updated_at=utcnow()
        ).on_conflict_ignore().execute()
        ImportCheckpoint.update(cursor=cursor, updated_at=utcnow()).where(
            ImportCheckpoint.site == site_id, ImportCheckpoint.resource == resource
        ).execute()


@dataclass
class SinkTotals:
    pages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0

    def add(self, result: BatchResult) -> None:
        self.pages += 1
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.rejected += len(result.rejected)


class Statistics:
    """PostgreSQL plans from table statistics, and an import outgrows them: a store that started
    empty still has the empty tables' estimates when it holds 300,000 orders (autovacuum may be off,
    and lags a fast import when on), and the planner then filters the site's whole (site) index for
    each batch's keys: 50-60 ms per statement at 300,000 orders and growing. So the import analyzes
    the tables it fills after its first 20 pages and each time its pages have doubled, whoever
    applies them (its own applying process or the workers): about ten times for a million orders,
    a few hundred ms each, beside the applying (ANALYZE blocks no reads or writes). SQLite plans
    from the schema (tests/service/test_query_plans.py); InnoDB recalculates its own."""

    def __init__(self) -> None:
        self.next_at = 2 * APPLY_EVERY_PAGES

    def after_page(self, pages: int) -> None:
        if not is_postgres() or pages < self.next_at:
            return
        self.next_at = pages * 2
        tables = (
            RawEvent,
            Contact,
            Order,
            OrderItem,
            Refund,
            Product,
            CustomerLedger,
            CustomerOrderDay,
        )
        database.execute_sql("ANALYZE " + ", ".join(quote(m._meta.table_name) for m in tables))


@dataclass
class ServiceSink:
    """Stores each page as the plugin's batches are stored. With workers, each page's processing
    is enqueued at once. With `apply_inline` (no separate worker) the first pages are stored here
    and applied every few pages; after `apply_every` pages a child process takes over applying
    them, and on SQLite storing them and saving checkpoints too (in the order sent), while this one
    fetches, maps and validates."""

    site: Site
    apply_inline: bool
    apply_every: int = APPLY_EVERY_PAGES
    totals: SinkTotals = field(default_factory=SinkTotals)
    waiting: list[int] = field(default_factory=list)  # stored, not yet applied (embedded mode)
    applier: ApplyingProcess | None = None
    statistics: Statistics = field(default_factory=Statistics)

    def __call__(self, events: list[dict[str, Any]]) -> None:
        self.store(events)
        self.statistics.after_page(self.totals.pages)

    def store(self, events: list[dict[str, Any]]) -> None:
        if not self.apply_inline:
            self.totals.add(accept_events(self.site, events))  # enqueued per page for the workers
            return
        prepared = prepare_batch(events)
        if self.applier is not None and self.applier.stores:
            self.applier.send(("page", prepared))  # SQLite: counted by the child
            return
        result = store_prepared(self.site.id, prepared, utcnow())
        self.totals.add(result)
        if self.applier is not None:
            self.applier.send(("stored", result.accepted_ids))
            return
        self.waiting.extend(result.accepted_ids)
        if self.totals.pages % self.apply_every == 0:
            # A long history: from now on a child process applies (and on SQLite, with its one
            # writer, stores). It starts with what is stored here; everything after goes to it, in
            # order.
            self.applier = ApplyingProcess(
                runtime.settings(),
                self.site.id,
                self.apply_every,
                stores=not (is_postgres() or is_mysql()),
            )
            ids, self.waiting = self.waiting, []
            self.applier.send(("apply", ids))

    def finish(self) -> None:
        """Embedded mode: wait until everything sent is stored and applied, then apply what is
        left."""
        if self.applier is not None:
            totals = self.applier.close()
            self.applier = None
            if totals is not None:
                for name in ("pages", "accepted", "duplicates", "rejected"):
                    setattr(self.totals, name, getattr(self.totals, name) + getattr(totals, name))
        apply_waiting_events()  # the last pages, and anything an applying process left

    def stop(self) -> None:
        if self.applier is not None:
            self.applier.terminate()
            self.applier = None


@dataclass
class ImportOutcome:
    summary: ImportSummary
    totals: SinkTotals
    applied: bool  # False: stored and queued for the workers (COMPANION_REDIS_URL is set)


def import_woocommerce(
    site: Site,
    url: str,
    key: str,
    secret: str,
    *,
    since: datetime | None = None,
    resources: Iterable[str] = RESOURCES,
    progress: bool = True,
    **importer_options: Any,
) -> ImportOutcome:
    """Import a shop's history into `site`; raises WooImportError or KeyboardInterrupt with
    every accepted page saved, so calling it again resumes."""
    apply_inline = runtime.settings().is_embedded_queue
    if apply_inline:
        apply_waiting_events()  # pages a previous, interrupted run stored but did not apply
    sink = ServiceSink(site, apply_inline, apply_every=APPLY_EVERY_PAGES)
    checkpoints = DatabaseCheckpoints(site.id)
    checkpoints.sink = sink
    importer = WooImporter(
        url,
        key,
        secret,
        sink,
        checkpoints,
        since=since,
        resources=resources,
        progress=progress,
        **importer_options,
    )
    try:
        summary = importer.run()
        if apply_inline:
            sink.finish()
    finally:
        sink.stop()  # interrupted: pages stored so far stay stored; the next run applies them first
    return ImportOutcome(summary=summary, totals=sink.totals, applied=apply_inline)


class ApplyingProcess:
    """A child process that does an import's database work in the order it is sent: with `stores`
    (SQLite) store a prepared page, apply stored events every `apply_every` pages (one transaction
    each), save a checkpoint; without (PostgreSQL, MariaDB) the parent stores each page and saves
    its checkpoint, and sends the stored ids here to apply. The parent reads the shop, maps and
    validates, so the two overlap on two cores; on SQLite only one process writes (it has one
    writer: when both wrote, they ran in turn). The queue holds AHEAD_PAGES messages, so a fast
    shop cannot run far ahead of the database. A checkpoint is saved only after the pages before
    it are stored: if the child dies, the next run fetches again from the last saved one, and what
    was stored but not applied is applied by `finish` or the next run."""

    def __init__(
        self, settings: Any, site_id: int, apply_every: int, *, stores: bool = True
    ) -> None:
        self.stores = stores
        context = multiprocessing.get_context(
            "spawn"
        )  # a fresh interpreter: no inherited connection
        self.messages: Any = context.Queue(maxsize=AHEAD_PAGES)
        self.results: Any = context.Queue()
        self.process = context.Process(
            target=_apply_pages,
            daemon=True,
            name="companion-import-apply",
            args=(settings, site_id, apply_every, self.messages, self.results),
        )
        self.process.start()

    def send(self, message: tuple[Any, ...]) -> None:
        while self.process.is_alive():
            try:
                self.messages.put(message, timeout=1)
                return
            except queue.Full:  # the child is busy: keep waiting while it lives
                continue
        raise ApplyingProcessDied(self.process.exitcode)

    def close(self) -> SinkTotals | None:
        """Wait for the child to finish what it was sent; its totals, or None if it died."""
        try:
            self.send(("done",))
            totals = self.results.get()
        except ApplyingProcessDied:
            totals = None
        self.process.join()
        if self.process.exitcode:
            log.warning(
                "the applying process exited with %s; applying what it stored here",
                self.process.exitcode,
            )
        return cast("SinkTotals | None", totals)

    def terminate(self) -> None:
        self.process.terminate()
        self.process.join()


class ApplyingProcessDied(WooImportError):
    def __init__(self, exitcode: int | None) -> None:
        super().__init__(
            f"the process applying the import stopped (exit code {exitcode}); what was stored is "
            "applied and pages not stored are fetched again: run the same import again to resume"
        )


def _apply_pages(
    settings: Any, site_id: int, apply_every: int, messages: Any, results: Any
) -> None:
    """The applying process: configure like the command, then work through the messages."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us
    runtime.configure(settings)
    bind_database(settings.database_url)
    heap.settle()  # it applies for the rest of the import: the collector skips what it loaded
    totals, waiting, pages = SinkTotals(), [], 0
    with database.connection_context():
        while (message := messages.get())[0] != "done":
            if message[0] in ("page", "stored"):
                if message[0] == "page":  # store it here (SQLite's one writer)
                    result = store_prepared(site_id, message[1], utcnow())
                    totals.add(result)
                    waiting.extend(result.accepted_ids)
                else:  # the parent stored it
                    waiting.extend(message[1])
                pages += 1
                if pages % apply_every == 0:
                    pipeline.process_events(waiting, utcnow())
                    waiting = []
            elif message[0] == "apply":
                waiting.extend(message[1])
            else:
                save_checkpoint(site_id, message[1], message[2])
        pipeline.process_events(waiting, utcnow())
    results.put(totals)


def run_queued_jobs() -> None:
    run_burst()


def apply_waiting_events(batch: int = 500) -> int:
    """Enqueue and run every stored, unclaimed, unapplied event (embedded mode only: there is no
    other worker to take them). Returns how many were taken."""
    taken, previous = 0, None
    while True:
        ids = unapplied_ids()
        if not ids or ids == previous:  # nothing left, or only events that keep failing to claim
            return taken
        for start in range(0, len(ids), batch):
            runtime.enqueue(process_events, ids[start : start + batch])
        run_queued_jobs()
        taken, previous = taken + len(ids), ids


def unapplied_ids() -> list[int]:
    return unprocessed_ids(utcnow(), 0)
