"""Subject A/B tests per flow step: the split, the numbers per variant and the winner rule.

A step tests two subjects when the owner sets `subject_b` beside its `subject` (empty `subject`:
the default subject is A). Each enrolment's step gets A or B from a hash of the enrolment and the
step: evenly over many enrolments, and always the same for the same step, so a retry, a second
worker or a re-claimed step never flips it. The message records its variant.

The winner (docs/flows.md, "Subject A/B tests"): nothing is called before each subject has
MIN_SENDS sends; then the click rate (contacts who clicked / sends) decides when a two-proportion
z-test finds the difference significant at 95 % (|z| >= 1.96); failing that, revenue per recipient
decides when the attributed-order rate differs significantly by the same test and the variant with
more orders per recipient also earns more per recipient. Otherwise: no winner yet.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from peewee import Case, fn

from companion.models import Message, Order
from companion.models.attribution import OrderAttribution
from companion.models.base import in_period, money_from_units

VARIANTS = ("A", "B")
MIN_SENDS = 100  # per variant, before any winner is called
Z_95 = 1.96  # two-sided 95 %


def variant_for(enrolment_id: int, step: int) -> str:
    """A or B for this enrolment's step: a hash, so the same step always gets the same subject."""
    digest = hashlib.sha256(f"subject-ab:{enrolment_id}:{step}".encode()).digest()
    return VARIANTS[digest[0] & 1]


def is_testing(subject_b: str | None) -> bool:
    return bool(subject_b and subject_b.strip())


# --- the numbers --------------------------------------------------------------------------------


def _sends(site_id: int, keys: Sequence[str], start: datetime | None, end: datetime | None) -> Any:
    return (
        (Message.site == site_id)
        & Message.flow_key.in_(list(keys))
        & Message.variant.is_null(False)
        & (Message.status == "sent")
        & in_period(Message.created_at, start, end)
    )


def variant_figures(
    site_id: int, keys: Sequence[str], start: datetime | None = None, end: datetime | None = None
) -> dict[str, dict[int, dict[str, dict[str, Any]]]]:
    """Per flow, step and variant, for the messages sent in the period: sends, contacts who
    clicked, and the orders attributed to those messages (last click, counted, net of refunds),
    whenever they were paid. Two statements for any number of flows."""
    found: dict[str, dict[int, dict[str, dict[str, Any]]]] = {}
    for key, step, variant, sent, clicked in (
        Message.select(
            Message.flow_key,
            Message.step,
            Message.variant,
            fn.COUNT(Message.id),
            fn.COUNT(
                fn.DISTINCT(Case(None, [(Message.clicked_at.is_null(False), Message.contact)]))
            ),
        )
        .where(_sends(site_id, keys, start, end))
        .group_by(Message.flow_key, Message.step, Message.variant)
        .tuples()
    ):
        found.setdefault(key, {}).setdefault(step, {})[variant] = _empty(sent, clicked)
    for key, step, variant, orders, total, refunded in (
        Message.select(
            Message.flow_key,
            Message.step,
            Message.variant,
            fn.COUNT(Order.id),
            fn.SUM(Order.total).coerce(False),
            fn.SUM(Order.refunded_total).coerce(False),
        )
        .join(OrderAttribution, on=(OrderAttribution.message_uuid == Message.uuid))
        .join(Order, on=(OrderAttribution.order == Order.id))
        .where(
            # from the flow's messages of the period to the orders they earned (by message uuid,
            # which is the site's own); a condition on the attribution's site would let SQLite
            # start from every attributed order of the site instead
            _sends(site_id, keys, start, end),
            Order.is_counted == True,
            Order.deleted_at.is_null(),
        )
        .group_by(Message.flow_key, Message.step, Message.variant)
        .tuples()
    ):
        figures = found.setdefault(key, {}).setdefault(step, {}).setdefault(variant, _empty(0, 0))
        figures["orders"] = int(orders)
        figures["revenue"] = money_from_units(total) - money_from_units(refunded)
    return found


def _empty(sent: int, clicked: int) -> dict[str, Any]:
    return {"sent": int(sent), "clicked": int(clicked), "orders": 0, "revenue": Decimal(0)}


def _rate(part: Any, whole: int) -> float | None:
    return float(part) / whole if whole else None


def z_score(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """Two-proportion z statistic, pooled (B's rate minus A's); 0 when it cannot be computed."""
    if not n_a or not n_b:
        return 0.0
    pooled = (hits_a + hits_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return (hits_b / n_b - hits_a / n_a) / spread if spread else 0.0


def verdict(a: dict[str, Any], b: dict[str, Any], min_sends: int = MIN_SENDS) -> dict[str, Any]:
    """Who leads, and whether a winner can be called (the rule in the module's docstring)."""
    per_a = _rate(a["revenue"], a["sent"]) or 0.0
    per_b = _rate(b["revenue"], b["sent"]) or 0.0
    rate_a, rate_b = _rate(a["clicked"], a["sent"]) or 0.0, _rate(b["clicked"], b["sent"]) or 0.0
    leader = (
        ("A" if rate_a > rate_b else "B")
        if rate_a != rate_b
        else ("A" if per_a > per_b else "B" if per_b > per_a else None)
    )
    z = z_score(a["clicked"], a["sent"], b["clicked"], b["sent"])
    answer: dict[str, Any] = {
        "leader": leader,
        "winner": None,
        "decided_by": None,
        "z": round(z, 2),
    }
    if min(a["sent"], b["sent"]) < min_sends:
        answer["reason"] = (
            f"Too early: each subject needs {min_sends} sends "
            f"(A has {a['sent']}, B has {b['sent']})."
        )
        return answer
    if abs(z) >= Z_95:
        answer.update(winner="B" if z > 0 else "A", decided_by="click rate")
        answer["reason"] = f"Click rates differ at 95 % confidence (z = {z:.2f})."
        return answer
    z_orders = z_score(a["orders"], a["sent"], b["orders"], b["sent"])
    more_orders = "B" if z_orders > 0 else "A"
    more_revenue = "B" if per_b > per_a else "A" if per_a > per_b else None
    if abs(z_orders) >= Z_95 and more_orders == more_revenue:
        answer.update(winner=more_revenue, decided_by="revenue per recipient")
        answer["reason"] = (
            f"Click rates are level (z = {z:.2f}); orders per recipient differ at 95 % "
            f"confidence (z = {z_orders:.2f}) and {more_revenue} earns more per recipient."
        )
        return answer
    answer["reason"] = (
        f"No clear difference yet: click rates z = {z:.2f}, orders z = {z_orders:.2f} "
        f"(a winner needs |z| >= {Z_95})."
    )
    return answer


def step_results(
    site_id: int, keys: Sequence[str], start: datetime | None = None, end: datetime | None = None
) -> dict[str, dict[int, dict[str, Any]]]:
    """The report's `ab_test` per flow and step that sent variants in the period."""
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for key, steps in variant_figures(site_id, keys, start, end).items():
        for step, by_variant in steps.items():
            variants = []
            for name in VARIANTS:
                f = by_variant.get(name) or _empty(0, 0)
                variants.append(
                    {
                        "variant": name,
                        **f,
                        "click_rate": _rate(f["clicked"], f["sent"]),
                        "revenue_per_recipient": (
                            (f["revenue"] / f["sent"]).quantize(Decimal("0.01"))
                            if f["sent"]
                            else None
                        ),
                    }
                )
            results.setdefault(key, {})[step] = {
                "variants": variants,
                **verdict(variants[0], variants[1]),
            }
    return results


# --- the owner's choice -------------------------------------------------------------------------


def keep_changes(subject: str | None, subject_b: str | None, keep: str) -> dict[str, Any]:
    """The step settings that end the test keeping one subject: B becomes the only subject, or A
    stays (its subject as it is, the default if none)."""
    if keep not in VARIANTS:
        raise ValueError(f"keep A or B, not {keep!r}")
    return {"subject": subject_b if keep == "B" else subject, "subject_b": None}
