"""An order's refunds as the store lists them (`order.refunds_listed`, sent by the plugin's history
sync for each order it records): a refund the service holds for that order but the list leaves
out was deleted in the store without an `order.refund_deleted` reaching the service (deleted before
the plugin sent one, or by a tool that fires no hook). It is deleted here as if that event had
come, tombstone included (orders.apply_refund_deletes), so syncing the history again brings the
service's refunds back to the store's.

Only refunds created well before the list was made are judged by it: a list recorded at 10:00 says
nothing of a refund made at 10:00 in another request that had not committed yet, or of one made
after it that reached the service first (the list was delayed, a retried delivery). MARGIN is far
longer than any request; a refund deleted within it of being made is the live hook's to report."""

from __future__ import annotations

from datetime import datetime, timedelta

from companion.ingest.batch import Batch, Event
from companion.ingest.orders import by_source
from companion.models import Refund
from companion.models.base import to_naive_utc

MARGIN = timedelta(minutes=10)


def apply_refund_lists(batch: Batch) -> None:
    """Turn each refund a list leaves out into an `order.refund_deleted` for this batch."""
    newest: dict[tuple[str, str], Event] = {}
    for event in batch.of_type("order.refunds_listed"):
        key = (event.source, event.data["order_id"])
        if key not in newest or (event.occurred_at, event.seq) > (
            newest[key].occurred_at,
            newest[key].seq,
        ):
            newest[key] = event
    if not newest:
        return
    held: set[tuple[str, str, str, datetime]] = set()  # source, order, refund, created at
    for source, order_ids in by_source(newest):
        held.update(
            (source, order_id, refund_id, created_at)
            for refund_id, order_id, created_at in Refund.select(
                Refund.external_id, Refund.order_external_id, Refund.created_at
            )
            .where(
                Refund.site == batch.site_id,
                Refund.source == source,
                Refund.order_external_id.in_(order_ids),
            )
            .tuples()
        )
    held.update(
        (e.source, e.data["order_id"], e.data["refund_id"], to_naive_utc(e.data["created_at"]))
        for e in batch.of_type("order.refunded")
        if (e.source, e.data["order_id"]) in newest
    )
    for source, order_id, refund_id, created_at in sorted(held, key=lambda h: h[:3]):
        listing = newest[(source, order_id)]
        if refund_id in listing.data["refund_ids"]:
            continue
        if created_at >= listing.occurred_at - MARGIN:
            continue
        batch.unlisted_refunds.append(
            Event(
                seq=listing.seq,
                id=listing.id,
                type="order.refund_deleted",
                source=source,
                occurred_at=listing.occurred_at,
                session_key=None,
                contact=None,
                data={"order_id": order_id, "refund_id": refund_id},
            )
        )
