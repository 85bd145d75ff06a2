"""Who shops in the demo: one-timers, steady repeat buyers who eventually drift away, and
channels."""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = (
    "Ann",
    "Ben",
    "Chloe",
    "David",
    "Ella",
    "Finn",
    "Grace",
    "Hugo",
    "Ida",
    "Jonas",
    "Kira",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Yara",
    "Zoe",
)
LAST = (
    "Adams",
    "Berg",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Olsen",
    "Petrov",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Urban",
    "Vogel",
)

# (channel, weight, attribution, page-view utm): the mix a small D2C shop sees.
CHANNELS: tuple[tuple[str, float, dict[str, str | None]], ...] = (
    ("organic", 34, {"source_type": "organic", "utm_source": "google", "utm_medium": "organic"}),
    ("direct", 22, {"source_type": "typein", "utm_source": None, "utm_medium": None}),
    (
        "paid",
        18,
        {
            "source_type": "utm",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "brand",
        },
    ),
    (
        "social",
        14,
        {
            "source_type": "utm",
            "utm_source": "instagram",
            "utm_medium": "social",
            "utm_campaign": "reels",
        },
    ),
    (
        "referral",
        12,
        {"source_type": "referral", "utm_source": "coffeeforum.example", "utm_medium": "referral"},
    ),
)
EMAIL_CAMPAIGNS = ("post_purchase", "cross_sell", "win_back", "replenishment", "vip")


@dataclass
class Shopper:
    number: int
    first_name: str
    last_name: str
    consent: bool
    rate: float  # expected orders per 30 days while active
    drop_chance: float  # after each order, the chance they never buy again
    leaves_on: int = 10**6  # day index after which they stop buying (set when they drop out)
    last_order_day: int = -1000
    orders: int = 0

    @property
    def email(self) -> str:
        domain = ("example.com", "example.org", "example.net")[self.number % 3]
        return f"{self.first_name}.{self.last_name}{self.number}@{domain}".lower()

    def contact(self) -> dict[str, object]:
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "marketing_consent": self.consent,
        }

    def is_eligible(self, day: int) -> bool:
        return self.orders > 0 and day <= self.leaves_on and day - self.last_order_day >= 5

    def ordered(self, day: int, rng: random.Random) -> None:
        self.orders += 1
        self.last_order_day = day
        if rng.random() < self.drop_chance:
            self.leaves_on = day


def new_shopper(rng: random.Random, number: int) -> Shopper:
    """Buying rates vary widely (a gamma spread, so many buy once and a few often) and each
    order may be someone's last (a beta-spread chance): the BG/NBD story the predictions fit."""
    return Shopper(
        number,
        rng.choice(FIRST),
        rng.choice(LAST),
        rng.random() < 0.72,
        rate=rng.gammavariate(0.6, 1.2),
        drop_chance=rng.betavariate(1.2, 4.0),
    )


def pick_channel(rng: random.Random) -> tuple[str, dict[str, str | None]]:
    name, _, attribution = rng.choices(CHANNELS, weights=[c[1] for c in CHANNELS])[0]
    return name, attribution


def email_attribution(campaign: str) -> dict[str, str | None]:
    return {
        "source_type": "utm",
        "utm_source": "sales-companion",
        "utm_medium": "email",
        "utm_campaign": campaign,
    }
