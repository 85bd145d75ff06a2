"""A sink that records what the importer delivers, as the service's ingest would receive it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class RecordingSink:
    """Keeps every batch; `.unique()` is what a service deduplicating by event id would store."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail_after: int | None = None  # raise KeyboardInterrupt on this many-th batch

    def __call__(self, events: list[dict[str, Any]]) -> None:
        if self.fail_after is not None and len(self.batches) + 1 == self.fail_after:
            raise KeyboardInterrupt
        self.batches.append(events)

    def all(self) -> list[dict[str, Any]]:
        return [e for batch in self.batches for e in batch]

    def unique(self) -> dict[str, dict[str, Any]]:
        return {e["id"]: e for e in self.all()}

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.unique().values() if e["type"] == kind]

    def sums(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Per currency: (order totals, refunds) from the unique events."""
        currency = {e["data"]["id"]: e["data"]["currency"] for e in self.of_type("order.updated")}
        sums: dict[str, tuple[Decimal, Decimal]] = {}
        for e in self.of_type("order.updated"):
            total, refunds = sums.get(e["data"]["currency"], (Decimal(0), Decimal(0)))
            sums[e["data"]["currency"]] = (total + Decimal(e["data"]["total"]), refunds)
        for e in self.of_type("order.refunded"):
            cur = currency[e["data"]["order_id"]]
            total, refunds = sums[cur]
            sums[cur] = (total, refunds + Decimal(e["data"]["amount"]))
        return sums
