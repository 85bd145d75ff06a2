"""A store as the flows see it: events applied at simulated times, ticks at chosen moments, mail
out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companion import pipeline
from companion.flows.lifecycle import run_lifecycle_scans
from companion.flows.tick import run_inline
from companion.ingest import receive
from companion.ingest.carts import mark_abandoned
from companion.models import Enrolment, Message, ScheduledStep

T0 = datetime(2026, 11, 20, 10, 0)  # a Friday; 11:00 in the test shop's Europe/Berlin


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """A site as the flows see it: events in, ticks at chosen moments, mail out."""

    def __init__(self, new_site: Any, settings: Any) -> None:
        self.new_site, self.site, self.settings = new_site, new_site.site, settings

    def send(self, events: list[dict[str, Any]], now: datetime) -> None:
        result = receive.store_batch(self.site, events, now)
        assert not result.rejected, result.rejected
        pipeline.process_events(result.accepted_ids, now=now)

    def go_live(self, moment: datetime) -> None:
        """The scanned flows started at `moment` (their first scan), before what a test does:
        what qualifies at that first scan is held, not mailed (flows/backlog.py)."""
        run_lifecycle_scans(moment)

    def tick(self, now: datetime, transport: Any = None, lifecycle: bool = True) -> dict[str, int]:
        """One scheduler beat with its due steps sent at once; no transport = outbox mode."""
        mark_abandoned(now)
        if lifecycle:
            run_lifecycle_scans(now)
        return run_inline(self.settings, now, transport)

    def run(
        self,
        start: datetime,
        end: datetime,
        every: timedelta = timedelta(hours=1),
        transport: Any = None,
        lifecycle: bool = True,
    ) -> None:
        moment = start
        while moment <= end:
            self.tick(moment, transport, lifecycle)
            moment += every

    def messages(self, flow: str | None = None) -> list[Message]:
        query = Message.select().where(Message.site == self.site.id)
        if flow:
            query = query.where(Message.flow_key == flow)
        return list(query.order_by(Message.created_at, Message.id))

    def enrolments(self, flow: str) -> list[Enrolment]:
        return list(
            Enrolment.select().where(Enrolment.site == self.site.id, Enrolment.flow_key == flow)
        )

    def steps(self, flow: str) -> list[ScheduledStep]:
        return list(
            ScheduledStep.select()
            .join(Enrolment)
            .where(Enrolment.site == self.site.id, Enrolment.flow_key == flow)
            .order_by(ScheduledStep.step)
        )
