"""An independent oracle: the metrics of DESIGN 4 computed in plain Python over the raw events
a test posts (no database, no production code), to compare the service against to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

IDLE = timedelta(minutes=30)
PLACED = ("pending", "on_hold", "processing", "completed", "refunded", "cancelled")


def _t(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


class Oracle:
    def __init__(
        self,
        events: list[dict[str, Any]],
        tz: str,
        touches: list[dict[str, Any]] = (),  # type: ignore[assignment]
        cart_emails: dict[str, str] | None = None,
        window_days: int = 5,
        count_opens: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.zone, self.events = ZoneInfo(tz), events
        self.touches, self.window, self.count_opens = (
            list(touches),
            timedelta(days=window_days),
            count_opens,
        )
        self.cart_emails = {k: _t(v) for k, v in (cart_emails or {}).items()}
        self.now = now or datetime.now(UTC)
        self.orders = self._orders()
        self.refunds = self._refunds()

    # ---- state from events -------------------------------------------------------------
    def _orders(self) -> dict[str, dict[str, Any]]:
        newest: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
        for index, ev in enumerate(self.events):
            if ev["type"] == "order.updated":
                key = str(ev["data"]["id"])
                version = (_t(ev["data"]["modified_at"]), index, ev)
                if key not in newest or version[:2] > newest[key][:2]:
                    newest[key] = version  # type: ignore[assignment]
        orders = {}
        for key, (modified, _, ev) in newest.items():
            d = ev["data"]
            deleted = any(
                e["type"] == "order.deleted"
                and str(e["data"]["order_id"]) == key
                and _t(e["occurred_at"]) >= modified
                for e in self.events
            )
            paid = _t(d.get("paid_at"))
            first = self._first_counted(key, modified)
            counted = (
                d["status"] in ("processing", "completed")
                or (d["status"] == "refunded" and paid)
                or (d["status"] == "refunded" and first is not None)
            ) and not deleted
            email = ((ev.get("contact") or {}).get("email") or "").lower() or None
            orders[key] = {
                "id": key,
                "counted": bool(counted),
                "total": Decimal(d["total"]),
                "currency": d["currency"],
                "when": first or paid or _t(d["created_at"]),
                "created": _t(d["created_at"]),
                "email": email,
                "session": ev.get("session_id"),
                "cart": d.get("cart_token"),
                "status": d["status"],
            }
        return orders

    def _first_counted(self, key: str, until: datetime) -> datetime | None:
        """The day an order was first counted (it stays counted there): the paid or created time
        of its oldest counted snapshot, in the order of their modification times."""
        snapshots = sorted(
            (_t(e["data"]["modified_at"]), i, e["data"])
            for i, e in enumerate(self.events)
            if e["type"] == "order.updated" and str(e["data"]["id"]) == key
        )
        for modified, _, d in snapshots:
            paid = _t(d.get("paid_at"))
            if modified <= until and (
                d["status"] in ("processing", "completed") or (d["status"] == "refunded" and paid)
            ):
                return paid or _t(d["created_at"])
        return None

    def _refunds(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for ev in self.events:
            if ev["type"] == "order.refunded" and str(ev["data"]["refund_id"]) not in seen:
                seen[str(ev["data"]["refund_id"])] = {
                    "order": str(ev["data"]["order_id"]),
                    "amount": Decimal(ev["data"]["amount"]),
                    "when": _t(ev["data"]["created_at"]),
                }
        return [
            r
            for r in seen.values()
            if r["order"] in self.orders and self.orders[r["order"]]["counted"]
        ]

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def counted(self, currency: str) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["counted"] and o["currency"] == currency]

    def refunds_of(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for r in self.refunds if r["order"] == order["id"]]

    # ---- metrics ------------------------------------------------------------------------
    def metrics(self, first: date, last: date, currency: str) -> dict[str, Any]:
        placed = [o for o in self.counted(currency) if first <= self.day(o["when"]) <= last]
        revenue = sum((o["total"] for o in placed), Decimal(0))
        refunds = sum(
            (
                r["amount"]
                for o in self.counted(currency)
                for r in self.refunds_of(o)
                if first <= self.day(r["when"]) <= last
            ),
            Decimal(0),
        )
        with_refund = [o for o in placed if self.refunds_of(o)]
        refunded_value = sum((r["amount"] for o in placed for r in self.refunds_of(o)), Decimal(0))
        out: dict[str, Any] = {
            "total_revenue": revenue,
            "refunds": refunds,
            "net_revenue": revenue - refunds,
            "orders": len(placed),
            "aov": _cents(revenue / len(placed)) if placed else None,
            "refund_rate_count": _ratio(len(with_refund), len(placed)),
            "refund_rate_value": _ratio(refunded_value, revenue),
        }
        out.update(self._customers(first, last, currency))
        out["conversion_rate"] = self._conversion(first, last)
        out["cart_abandonment_rate"] = self._abandonment(first, last)
        out["email_revenue"], out["recovered_revenue"] = self._email(first, last, currency)
        return out

    def _customers(self, first: date, last: date, currency: str) -> dict[str, Any]:
        upto = [o for o in self.counted(currency) if self.day(o["when"]) <= last and o["email"]]
        counts: dict[str, int] = {}
        for o in upto:
            counts[o["email"]] = counts.get(o["email"], 0) + 1
        all_upto = [o for o in self.counted(currency) if self.day(o["when"]) <= last]
        net = sum((o["total"] for o in all_upto), Decimal(0)) - sum(
            (
                r["amount"]
                for o in self.counted(currency)
                for r in self.refunds_of(o)
                if self.day(r["when"]) <= last
            ),
            Decimal(0),
        )
        length = (last - first).days + 1
        before = (first - timedelta(days=length), first - timedelta(days=1))
        earlier = {
            o["email"]
            for o in self.counted(currency)
            if o["email"] and before[0] <= self.day(o["when"]) <= before[1]
        }
        now = {
            o["email"]
            for o in self.counted(currency)
            if o["email"] and first <= self.day(o["when"]) <= last
        }
        return {
            "clv_historic": _cents(net / len(counts)) if counts else None,
            "repeat_purchase_rate": _ratio(sum(1 for n in counts.values() if n >= 2), len(counts)),
            "retention_rate": _ratio(len(earlier & now), len(earlier)),
        }

    def _conversion(self, first: date, last: date) -> float | None:
        views: dict[str, list[datetime]] = {}
        for ev in self.events:
            if ev["type"] == "page.viewed":
                views.setdefault(ev["session_id"], []).append(_t(ev["occurred_at"]))  # type: ignore[arg-type]
        if not views:
            return None
        sessions = converted = 0
        for key, times in views.items():
            for start, end in _visits(sorted(times)):
                if first <= self.day(start) <= last:
                    sessions += 1
                    converted += any(
                        o["counted"] and o["session"] == key and start <= o["created"] <= end + IDLE
                        for o in self.orders.values()
                    )
        return _ratio(converted, sessions)

    def _abandonment(self, first: date, last: date) -> float | None:
        carts: dict[str, dict[str, Any]] = {}
        for ev in self.events:
            if ev["type"] == "cart.updated":
                token = ev["data"]["cart_token"]
                carts.setdefault(token, {"created": _t(ev["occurred_at"])})
                carts[token].update(updated=_t(ev["occurred_at"]), items=bool(ev["data"]["items"]))
        abandoned = converted = 0
        for token, cart in carts.items():
            if not first <= self.day(cart["created"]) <= last:
                continue
            if any(o["cart"] == token and o["status"] in PLACED for o in self.orders.values()):
                converted += 1
            elif cart["items"] and cart["updated"] <= self.now - timedelta(hours=1):
                abandoned += 1
        return _ratio(abandoned, abandoned + converted)

    def _email(self, first: date, last: date, currency: str) -> tuple[Decimal, Decimal]:
        email = recovered = Decimal(0)
        for o in self.counted(currency):
            in_period = first <= self.day(o["when"]) <= last
            if self._attributed(o):
                email += o["total"] if in_period else 0
                email -= sum(
                    (
                        r["amount"]
                        for r in self.refunds_of(o)
                        if first <= self.day(r["when"]) <= last
                    ),
                    Decimal(0),
                )
            sent = self.cart_emails.get(o["cart"] or "")
            if in_period and sent is not None and sent <= o["created"]:
                recovered += o["total"]
        return email, recovered

    def _attributed(self, order: dict[str, Any]) -> bool:
        kinds = ("click", "open") if self.count_opens else ("click",)
        return any(
            t["email"] == order["email"]
            and t["kind"] in kinds
            and order["created"] - self.window <= _t(t["at"]) <= order["created"]  # type: ignore[operator]
            for t in self.touches
        )


def _visits(times: list[datetime]) -> list[tuple[datetime, datetime]]:
    visits: list[list[datetime]] = []
    for moment in times:
        if visits and moment - visits[-1][1] <= IDLE:
            visits[-1][1] = moment
        else:
            visits.append([moment, moment])
    return [(a, b) for a, b in visits]


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _ratio(numerator: Any, denominator: Any) -> float | None:
    return round(float(Decimal(numerator) / Decimal(denominator)), 6) if denominator else None
