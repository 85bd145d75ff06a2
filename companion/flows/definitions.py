"""The eight built-in flows: trigger, steps with their default delays, exits, and which steps are
marketing: the one place these facts live.

A marketing step needs consent, carries List-Unsubscribe, honours the frequency cap and quiet
hours, and an unsubscribe stops it. A transactional step is about something the contact has (an
order's thank-you, a subscription's renewal notice): it goes without marketing consent and
despite an unsubscribe (never to a bounced or complaining address), and carries no
List-Unsubscribe. Every step is marketing unless its flow lists it in `transactional_steps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FlowDefinition:
    key: str
    title: str
    trigger: str
    exits: str
    delays_hours: tuple[float, ...]  # per step, from the trigger's moment (may be negative)
    transactional_steps: tuple[int, ...] = ()  # the others are marketing
    shared_body: bool = False  # one rendered body for all recipients (broadcast-size sends)
    conditions: tuple[str, ...] = ()
    product_steps: tuple[int, ...] = ()  # steps whose point is a product list: skipped without one
    # not to a contact who is shopping or was mailed lately (rules.smart_sending): "skip" the
    # step, or "defer" it (a once-only mail such as the VIP welcome); None: no such rule
    smart_sending: str | None = None
    # steps whose point is an offer: (step, settings any one of which it needs); off until one is
    # set
    needs: tuple[tuple[int, tuple[str, ...]], ...] = ()
    # steps a contact gets at most once in so many days, whichever enrolment they come from (a
    # customer who orders three times in ten days is asked for one review, not three)
    once_per_days: tuple[tuple[int, int], ...] = ()
    # steps about the use of what was ordered (the review request): they wait until the order is
    # completed (content.wait_for_completion)
    after_completion_steps: tuple[int, ...] = ()

    def is_marketing_step(self, step: int) -> bool:
        return step not in self.transactional_steps

    @property
    def is_marketing(self) -> bool:
        """Every step is marketing: an unsubscribe ends the whole flow (else only its marketing
        steps)."""
        return not self.transactional_steps

    def step_needs(self, step: int) -> tuple[str, ...]:
        return next((names for number, names in self.needs if number == step), ())

    def step_once_per_days(self, step: int) -> int | None:
        return next((days for number, days in self.once_per_days if number == step), None)


FLOWS: dict[str, FlowDefinition] = {
    f.key: f
    for f in (
        FlowDefinition(
            "post_purchase",
            "Post-purchase",
            "order paid",
            "refund (an unsubscribe stops steps 2 and 3)",
            (1, 24 * 7, 24 * 21),
            transactional_steps=(1,),  # 1 thanks; 2 review request, 3 products: marketing
            conditions=("min_value", "first_order_only"),
            product_steps=(3,),
            once_per_days=((2, 30), (3, 30)),
            after_completion_steps=(2,),  # DESIGN 6: "review request after completion"
        ),
        FlowDefinition(
            "abandoned_cart",
            "Abandoned cart",
            "cart with a known email idle 1 hour",
            "order, cart emptied",
            (1, 24, 72),
            conditions=("min_value",),
        ),
        FlowDefinition(
            "browse_abandonment",
            "Browse abandonment",
            "known contact viewed products, no cart or order within 2 hours",
            "cart or order",
            (2,),
            product_steps=(1,),
        ),
        FlowDefinition(
            "cross_sell",
            "Cross-sell and upsell",
            "paid order",
            "another order",
            (24 * 5,),
            conditions=("min_value", "first_order_only"),
            product_steps=(1,),
            once_per_days=((1, 30),),
        ),
        FlowDefinition(
            "win_back",
            "Win-back",
            "past the expected reorder time, P(alive) low, or stage at risk",
            "order",
            (0, 24 * 7),
            smart_sending="skip",
            needs=((2, ("coupon",)),),
        ),
        FlowDefinition(
            "vip",
            "VIP",
            "contact enters the VIP stage",
            "-",
            (0,),
            shared_body=True,
            smart_sending="defer",
            needs=((1, ("reward", "early_access_url")),),
        ),
        FlowDefinition(
            "replenishment",
            "Replenishment",
            "a consumable's typical reorder interval nearly over",
            "order of it",
            (0,),
            smart_sending="skip",
        ),
        FlowDefinition(
            "renewal_reminder",
            "Renewal reminder",
            "subscription or licence expiring",
            "renewal",
            (-24 * 7, 24),
            transactional_steps=(1, 2),
        ),
    )
}

DEFAULT_FLOW_CONFIG: dict[str, Any] = {
    "enabled": True,
    "from_email": None,
    "from_name": None,
    "reply_to": None,
    "conditions": {"min_value": None, "first_order_only": False},
    "coupon": None,
    "reward": None,
    "early_access_url": None,
    "replenish_days": {},  # product id -> reorder interval in days, over the learned one
    # replenishment: what is consumable (flows/replenishment.py); {"products": [...], "categories":
    # [...]}
    "consumable": None,
    "never": None,
}

DEFAULT_SITE_CONFIG: dict[str, Any] = {
    "from_email": None,  # default: shop@<the store's domain>
    "from_name": None,  # default: the store's name
    "reply_to": None,
    "unknown_consent": "allow",  # "allow" or "deny" marketing when consent was never given
    "frequency_cap": {"max_messages": 2, "per_hours": 24},
    "quiet_hours": {"start": "21:00", "end": "08:00"},
    "win_back_after_days": 90,  # without predictions: no order for this long (or 2x the usual gap)
    "vip_min_orders": 5,  # without lifecycle stages: this many orders make a VIP
    "recent_trigger_hours": 48,  # older orders (a history import) enrol nobody
    # win-back, VIP, replenishment skip a contact with a cart or an order in flight, or mailed
    # marketing within this many hours ("smart sending"); 0 or null: off
    "smart_sending_hours": 16,
    # the store's, in every mail's footer (CAN-SPAM); the plugin sends WooCommerce's
    "postal_address": None,
}


def is_flow(key: str) -> bool:
    return key in FLOWS


def marketing_flows() -> list[str]:
    """The flows an unsubscribe ends: every step of them is marketing."""
    return [k for k, f in FLOWS.items() if f.is_marketing]
