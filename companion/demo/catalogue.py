"""What the demo shop sells: categories, price tiers, partners, one faulty and one stalled
product."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DemoProduct:
    id: int
    name: str
    sku: str
    category: str
    price: Decimal
    popularity: float  # relative chance of being the first item of an order
    tier: str  # "budget", "standard" or "premium"
    consumable: bool = False  # bought again and again, often several at once
    partner: int | None = None  # the product often bought with it
    faulty: bool = False  # refunds concentrate here (a bad batch from the supplier)
    stalls_days_ago: int | None = None  # sold steadily, then stopped (sold out, never restocked)
    stock: int = 120

    def as_item(self, quantity: int) -> dict[str, object]:
        return {
            "product_id": self.id,
            "variation_id": 0,
            "sku": self.sku,
            "name": self.name,
            "quantity": quantity,
            "price": str(self.price),
            "total": str(self.price * quantity),
            "categories": [self.category],
        }

    def url(self, store_url: str) -> str:
        return f"{store_url}/product/{self.sku.lower()}"


def _p(
    id_: int, name: str, category: str, price: str, popularity: float, tier: str, **kw: object
) -> DemoProduct:
    sku = "".join(w[:3] for w in name.upper().split()[:3])
    return DemoProduct(id_, name, f"{sku}-{id_}", category, Decimal(price), popularity, tier, **kw)  # type: ignore[arg-type]


PRODUCTS: tuple[DemoProduct, ...] = (
    _p(
        101,
        "House Espresso Beans 1kg",
        "Coffee",
        "24.00",
        9,
        "standard",
        consumable=True,
        partner=111,
        stock=340,
    ),
    _p(
        102,
        "Ethiopia Yirgacheffe 250g",
        "Coffee",
        "14.50",
        7,
        "standard",
        consumable=True,
        partner=121,
        stock=210,
    ),
    _p(103, "Colombia Decaf 250g", "Coffee", "12.90", 3, "budget", consumable=True, stock=90),
    _p(104, "Geisha Reserve 100g", "Coffee", "39.00", 1.5, "premium", consumable=True, stock=25),
    _p(111, "Burr Grinder Pro", "Brewing gear", "189.00", 2, "premium", partner=101, stock=18),
    _p(112, "Hand Grinder", "Brewing gear", "59.00", 2.5, "standard", partner=102, stock=40),
    _p(
        113,
        "Aurora Gooseneck Kettle",
        "Brewing gear",
        "69.00",
        4,
        "standard",
        partner=114,
        faulty=True,
        stock=60,
    ),
    _p(
        114,
        "Ceramic Pour-Over Dripper",
        "Brewing gear",
        "29.00",
        4,
        "standard",
        partner=121,
        stock=75,
    ),
    _p(115, "French Press 1L", "Brewing gear", "34.00", 3, "standard", stock=50),
    _p(116, "Espresso Machine Duo", "Brewing gear", "649.00", 0.4, "premium", partner=111, stock=6),
    _p(
        121,
        "Paper Filters (100)",
        "Accessories",
        "6.50",
        5,
        "budget",
        consumable=True,
        partner=114,
        stock=400,
    ),
    _p(122, "Digital Coffee Scale", "Accessories", "39.00", 2, "standard", stock=35),
    _p(
        123,
        "Trail Thermos 500ml",
        "Accessories",
        "34.00",
        5,
        "standard",
        stalls_days_ago=12,
        stock=0,
    ),
    _p(124, "Milk Frother", "Accessories", "22.00", 2, "budget", stock=45),
    _p(131, "Stoneware Mug", "Mugs & cups", "16.00", 4, "budget", partner=141, stock=160),
    _p(132, "Double-Wall Glass Cup (2)", "Mugs & cups", "24.00", 2.5, "standard", stock=70),
    _p(133, "Travel Tumbler", "Mugs & cups", "27.00", 2, "standard", stock=55),
    _p(
        141,
        "Sencha Green Tea 100g",
        "Tea",
        "11.00",
        3,
        "budget",
        consumable=True,
        partner=131,
        stock=120,
    ),
    _p(
        142,
        "Earl Grey Supreme 100g",
        "Tea",
        "9.50",
        2.5,
        "budget",
        consumable=True,
        partner=131,
        stock=130,
    ),
    _p(
        143,
        "Matcha Ceremonial 30g",
        "Tea",
        "29.00",
        1.5,
        "premium",
        consumable=True,
        partner=124,
        stock=30,
    ),
)

BY_ID = {p.id: p for p in PRODUCTS}
FAULTY_REASONS = (
    "Kettle stopped heating after a week",
    "Faulty thermostat, water never boils",
    "Lid hinge broke",
    "Leaks at the base",
)
OTHER_REASONS = ("Changed my mind", "Ordered the wrong size", "Arrived damaged", "Gift not needed")
