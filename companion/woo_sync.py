"""The WooCommerce history import wired into the service.

`WooImporter` (companion.woo_import) pages through the shop; here its checkpoints live in the
database, keyed by (site, resource), so a rerun on any machine resumes, and each page takes the
same path as the plugin's batches: stored once per event id, then applied by the jobs. With no
separate worker (embedded mode: no COMPANION_REDIS_URL) the command applies them itself as it goes,
so profiles are complete when it ends: in a child process once the history is large, so fetching,
mapping and validating the next pages overlaps applying the previous ones (two cores, twice the
speed of doing both in turn).
"""
from __future__ import annotations

import logging
import multiprocessing
import queue
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from companion import runtime
from companion.db import write_transaction
from companion.ingest import BatchResult, store_batch
from companion.models import ImportCheckpoint, Site, utcnow
from companion.woo_import import RESOURCES, ImportSummary, WooImporter
from jobs.events import accept_events, process_events

APPLY_EVERY_PAGES = 10  # embedded mode: one processing job per 10 pages (~1,000 orders)
AHEAD_JOBS = 2  # embedded mode: how many stored, unapplied jobs the fetching may run ahead

log = logging.getLogger(__name__)


class DatabaseCheckpoints:
    """The importer's CheckpointStore in the `import_checkpoint` table of one site."""

    def __init__(self, site_id: int) -> None:
        self.site_id = site_id

    def load(self, resource: str) -> dict[str, Any] | None:
        row = ImportCheckpoint.get_or_none(ImportCheckpoint.site == self.site_id,
                                           ImportCheckpoint.resource == resource)
        return row.cursor if row is not None and isinstance(row.cursor, dict) else None

    def save(self, resource: str, cursor: dict[str, Any]) -> None:
        # Insert-or-ignore then update: the same two statements on SQLite, PostgreSQL and MariaDB.
        with write_transaction():
            ImportCheckpoint.insert(site=self.site_id, resource=resource, cursor=cursor,
                                    updated_at=utcnow()).on_conflict_ignore().execute()
            ImportCheckpoint.update(cursor=cursor, updated_at=utcnow()).where(
                ImportCheckpoint.site == self.site_id, ImportCheckpoint.resource == resource).execute()


@dataclass
class SinkTotals:
    pages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass
class ServiceSink:
    """Stores each page as the plugin's batches are stored. With workers, each page's processing
    is enqueued at once; with `apply_inline` (no separate worker), every few pages are enqueued as
    one job and run here."""

    site: Site
    apply_inline: bool
    apply_every: int = APPLY_EVERY_PAGES
    totals: SinkTotals = field(default_factory=SinkTotals)
    waiting: list[int] = field(default_factory=list)  # stored, not yet enqueued (embedded mode)
    applier: ApplyingProcess | None = None

    def __call__(self, events: list[dict[str, Any]]) -> None:
        result = self._store(events)
        self.totals.pages += 1
        self.totals.accepted += result.accepted
        self.totals.duplicates += result.duplicates
        self.totals.rejected += len(result.rejected)
        if self.apply_inline and self.totals.pages % self.apply_every == 0:
            self.apply()

    def apply(self) -> None:
        """Embedded mode: one job for the pages stored since the last call, handed to the applying
        process (started on the first call: a short import never pays for it)."""
        ids, self.waiting = self.waiting, []
        if not ids:
            return
        if self.applier is None:
            self.applier = ApplyingProcess(runtime.settings())
        self.applier.submit(ids)

    def finish(self) -> None:
        """Embedded mode: apply what is stored and wait until everything is applied."""
        if self.applier is not None:
            self.apply()
            self.applier.close()
            self.applier = None
        apply_waiting_events()  # the last pages, and anything the applying process left

    def stop(self) -> None:
        if self.applier is not None:
            self.applier.terminate()
            self.applier = None

    def _store(self, events: list[dict[str, Any]]) -> BatchResult:
        if not self.apply_inline:
            return accept_events(self.site, events)  # enqueued per page for the workers
        # Stored now, enqueued with the next few pages as one larger batch: fewer, bigger set-based
        # passes. If the run stops in between, the next run (or the scheduler's sweep) applies them.
        result = store_batch(self.site, events)
        self.waiting.extend(result.accepted_ids)
        return result


@dataclass
class ImportOutcome:
    summary: ImportSummary
    totals: SinkTotals
    applied: bool  # False: stored and queued for the workers (COMPANION_REDIS_URL is set)


def import_woocommerce(site: Site, url: str, key: str, secret: str, *, since: datetime | None = None,
                       resources: Iterable[str] = RESOURCES, progress: bool = True,
                       **importer_options: Any) -> ImportOutcome:
    """Import a shop's history into `site`; raises WooImportError or KeyboardInterrupt with
    every accepted page saved, so calling it again resumes."""
    apply_inline = runtime.settings().is_embedded_queue
    if apply_inline:
        apply_waiting_events()  # pages a previous, interrupted run stored but did not apply
    sink = ServiceSink(site, apply_inline, apply_every=APPLY_EVERY_PAGES)
    importer = WooImporter(url, key, secret, sink, DatabaseCheckpoints(site.id), since=since,
                           resources=resources, progress=progress, **importer_options)
    try:
        summary = importer.run()
        if apply_inline:
            sink.finish()
    finally:
        sink.stop()  # interrupted: what is stored stays stored; the next run applies it first
    return ImportOutcome(summary=summary, totals=sink.totals, applied=apply_inline)


class ApplyingProcess:
    """A child process that applies the id lists it is handed, one transaction each, while the
    parent goes on fetching. The queue holds at most AHEAD_JOBS lists, so a fast shop cannot run
    far ahead of the database. The child only applies stored events: if it dies, they stay
    stored and unapplied, and `finish` (or the next run) applies them."""

    def __init__(self, settings: Any) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connection
        self.jobs: Any = context.Queue(maxsize=AHEAD_JOBS)
        self.process = context.Process(target=_apply_jobs, args=(settings, self.jobs), daemon=True,
                                       name="companion-import-apply")
        self.process.start()

    def submit(self, ids: list[int]) -> None:
        while self.process.is_alive():
            try:
                self.jobs.put(ids, timeout=1)
                return
            except queue.Full:  # the child is busy: keep waiting while it lives
                continue
        log.warning("the applying process stopped (exit code %s); the rest is applied at the end",
                    self.process.exitcode)

    def close(self) -> None:
        if self.process.is_alive():
            self.jobs.put(None)
        self.process.join()
        if self.process.exitcode:
            log.warning("the applying process exited with %s; applying what it left here",
                        self.process.exitcode)

    def terminate(self) -> None:
        self.process.terminate()
        self.process.join()


def _apply_jobs(settings: Any, jobs: Any) -> None:
    """The applying process: configure like the command, then apply each id list until None."""
    import signal

    from companion.db import bind_database

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us
    runtime.configure(settings)
    bind_database(settings.database_url)
    while (ids := jobs.get()) is not None:
        process_events(ids)


def run_queued_jobs() -> None:
    from companion.workers import run_burst

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
            runtime.enqueue(process_events, ids[start:start + batch])
        run_queued_jobs()
        taken, previous = taken + len(ids), ids


def unapplied_ids() -> list[int]:
    from companion.processing import unprocessed_ids

    return unprocessed_ids(utcnow(), 0)
