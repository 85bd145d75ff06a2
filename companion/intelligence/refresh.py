"""The intelligence refresh: every customer's RFM, stage and predictions, and the product pairs.

`refresh_site` reads one per-customer summary (set-based SQL), scores everybody with numpy,
writes the scores back in bulk and records a `RefreshRun` holding what a later single order is
scored with (`rescore_contacts`, run by the pipeline right after a batch touched orders).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from companion.core.db import write_transaction
from companion.ingest.batch import Batch, ContactFacts
from companion.intelligence.recommendations import refresh_pairs
from companion.intelligence.scoring import ScoringModel, score_customers, score_few
from companion.intelligence.summary import customer_summary, summary_from_facts
from companion.intelligence.writeback import write_scores
from companion.models import Site
from companion.models.intelligence import RefreshRun


def end_of_day(day: date) -> datetime:
    """`--as-of 2026-06-30` means what was known at the end of that (UTC) day."""
    return datetime(day.year, day.month, day.day) + timedelta(days=1, seconds=-1)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    began = time.perf_counter()
    yield
    timings[step] = round(time.perf_counter() - began, 3)


def refresh_site(site: Site, now: datetime, as_of: datetime | None = None) -> dict[str, Any]:
    """Recompute every contact's scores of one site as of `as_of` (a backtest) or `now` and its
    pairs.

    `now` is the caller's moment: the job's clock, or the time of the batch that made the first
    refresh."""
    moment = as_of or now
    began = time.perf_counter()
    timings: dict[str, float] = {}
    with _timed(timings, "summary"):
        summary = customer_summary(site.id, moment)
    with _timed(timings, "scoring"):
        scores, model = score_customers(summary)
    with write_transaction():
        with _timed(timings, "write_scores"):
            write_scores(site.id, scores, at=moment)
        with _timed(timings, "pairs"):
            pairs = refresh_pairs(site.id, moment)
        finished = now + timedelta(seconds=round(time.perf_counter() - began))
        RefreshRun.create(
            site=site.id,
            started_at=now,
            finished_at=finished,
            as_of=moment,
            is_backtest=as_of is not None,
            customers=summary.size,
            gate_met=model.bgnbd is not None,
            gate_reason=model.gate_reason or "; ".join(model.notes) or None,
            model=model.to_json(),
            timings=timings,
        )
    return {
        "site": site.public_id,
        "as_of": moment,
        "customers": summary.size,
        "pairs": pairs,
        "predictions": model.bgnbd is not None,
        "gate_met": model.gate_met,
        "gate_reason": model.gate_reason,
        "notes": model.notes,
        "timings": timings,
    }


def refresh_sites(
    now: datetime, public_id: str | None = None, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    sites = Site.select().order_by(Site.id)
    if public_id:
        sites = sites.where(Site.public_id == public_id)
    return [refresh_site(site, now, as_of) for site in sites]


# Below this many scored customers, thresholds say little (from a refresh of an empty shop, taken
# when the service starts, nobody could reach R, F or M above 1): a batch then rescores everybody,
# which at that size costs milliseconds.
MIN_CUSTOMERS_FOR_THRESHOLDS = 50


def _latest_run(site_id: int) -> RefreshRun | None:
    return (
        RefreshRun.select()
        .where(RefreshRun.site == site_id, RefreshRun.is_backtest == False)
        .order_by(RefreshRun.id.desc())
        .first()
    )


def latest_model(site_id: int) -> ScoringModel | None:
    """The scoring model of the site's last live (not backtest) refresh."""
    run = _latest_run(site_id)
    return ScoringModel.from_json(run.model) if run and run.model else None


def rescore_contacts(
    site_id: int,
    contact_ids: list[int],
    now: datetime,
    known: Mapping[int, ContactFacts | None] | None = None,
) -> int:
    """Score these contacts as of `now` against the last refresh's thresholds and fits (the first
    time, and while the shop is small: refresh all). `known` is what this pass read of them when it
    refreshed their totals: their summary is made from it where it holds as of `now`."""
    if not contact_ids:
        return 0
    run = _latest_run(site_id)
    if run is None or not run.model or run.customers < MIN_CUSTOMERS_FOR_THRESHOLDS:
        return int(refresh_site(Site.get_by_id(site_id), now)["customers"])
    model = ScoringModel.from_json(run.model)
    ids = sorted(set(contact_ids))
    summary = summary_from_facts(known or {}, ids, now) or customer_summary(site_id, now, ids)
    write_scores(site_id, score_few(summary, model), only=ids)
    return len(ids)


def rescore_after_batch(batch: Batch) -> None:
    """Processing hook: a new order, a refund or a deleted refund updates its customer's scores and
    stage at once."""
    if batch.order_changes or batch.new_refund_ids or batch.deleted_refunds:
        rescore_contacts(
            batch.site_id, sorted(batch.touched_contacts), batch.now, batch.contact_facts
        )
