"""WooCommerce-shaped test data, built from the verbatim REST v3 order in tests/data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
CURRENCIES = ("USD", "EUR", "JPY", "KWD")


@cache
def _documented() -> str:
    return (DATA / "woocommerce" / "order.json").read_text()


def documented_order() -> dict[str, Any]:
    """The REST v3 order from WooCommerce's docs, untouched."""
    return json.loads(_documented())


def make_order(
    order_id: int,
    *,
    total: str = "29.35",
    currency: str = "USD",
    status: str = "completed",
    customer_id: int = 0,
    email: str = "john.doe@example.com",
    modified: str = "2024-05-01T10:00:00",
    refunds: Iterable[tuple[int, str]] = (),
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The documented order with another id, total, currency, status, customer, refunds and meta."""
    order = documented_order()
    order.update(
        id=order_id,
        number=str(order_id),
        total=total,
        currency=currency,
        status=status,
        customer_id=customer_id,
        date_modified_gmt=modified,
        date_created_gmt="2024-04-30T08:00:00",
        date_paid_gmt="2024-04-30T08:01:00",
    )
    order["billing"]["email"] = email
    order["refunds"] = [
        {"id": rid, "reason": "damaged", "total": "-" + amount} for rid, amount in refunds
    ]
    order["meta_data"] = [
        {"id": n, "key": k, "value": v} for n, (k, v) in enumerate((meta or {}).items())
    ]
    return order


def attribution_meta() -> dict[str, str]:
    """What WooCommerce 8.5+ stores for an order that came from a Google Ads click on a phone."""
    prefix = "_wc_order_attribution_"
    return {
        prefix + "source_type": "utm",
        prefix + "utm_source": "google",
        prefix + "utm_medium": "cpc",
        prefix + "utm_campaign": "spring-sale",
        prefix + "session_entry": "https://shop.example/?utm_source=google&gclid=Cj0KCQ-abc",
        prefix + "referrer": "https://www.google.com/",
        prefix + "device_type": "Mobile",
        prefix + "user_agent": "Mozilla/5.0 (iPhone)",
        prefix + "session_pages": "4",
    }


def history(orders: int, products: int = 0, customers: int = 0) -> dict[str, Any]:
    """A shop: orders in several currencies, some partly and some fully refunded, plus catalogue."""
    order_list, refunds = [], {}
    for n in range(orders):
        order_id = 100 + 3 * n  # refunds take ids between orders, as in WooCommerce
        currency = CURRENCIES[n % len(CURRENCIES)]
        total = _total(n, currency)
        refund = _refund(n, total)
        order_list.append(
            make_order(
                order_id,
                total=total,
                currency=currency,
                status="refunded" if refund == total else "completed",
                customer_id=n % 5,
                email=f"buyer{n % 40}@example.com",
                modified=f"2024-05-{1 + n % 28:02d}T10:{n % 60:02d}:00",
                refunds=[(order_id + 1, refund)] if refund else [],
            )
        )
        if refund:
            refunds[order_id + 1] = {
                "id": order_id + 1,
                "parent_id": order_id,
                "amount": refund,
                "reason": "damaged",
                "date_created_gmt": "2024-06-02T09:30:00",
            }
    return {
        "orders": order_list,
        "refunds": refunds,
        "products": [make_product(10 + n) for n in range(products)],
        "customers": [make_customer(1 + n) for n in range(customers)],
    }


def make_product(product_id: int, *, modified: str = "2024-05-01T10:00:00") -> dict[str, Any]:
    return {
        "id": product_id,
        "name": f"Mug &amp; Saucer {product_id}",
        "slug": f"mug-{product_id}",
        "permalink": f"https://shop.example/product/mug-{product_id}/",
        "status": "publish",
        "sku": f"MUG-{product_id}",
        "price": "12.50",
        "regular_price": "12.50",
        "sale_price": "",
        "date_created_gmt": "2024-01-01T00:00:00",
        "date_modified_gmt": modified,
        "stock_quantity": 7,
        "stock_status": "instock",
        "categories": [{"id": 9, "name": "Kitchen", "slug": "kitchen"}],
        "images": [{"id": 1, "src": f"https://shop.example/mug-{product_id}.jpg"}],
    }


def make_customer(customer_id: int, *, modified: str = "2024-05-01T10:00:00") -> dict[str, Any]:
    return {
        "id": customer_id,
        "email": f"customer{customer_id}@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "role": "customer",
        "username": f"ada{customer_id}",
        "date_created_gmt": "2024-01-01T00:00:00",
        "date_modified_gmt": modified,
        "billing": {"email": f"customer{customer_id}@example.com", "phone": "+44 20 7946 0000"},
        "shipping": {},
        "is_paying_customer": True,
        "meta_data": [],
    }


def served_sums(orders: list[dict[str, Any]]) -> dict[str, tuple[Decimal, Decimal]]:
    """Per currency: (sum of order totals, sum of refunds) as the shop holds them."""
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for order in orders:
        total, refunded = sums.get(order["currency"], (Decimal(0), Decimal(0)))
        refunded += sum((-Decimal(r["total"]) for r in order["refunds"]), Decimal(0))
        sums[order["currency"]] = (total + Decimal(order["total"]), refunded)
    return sums


def _total(n: int, currency: str) -> str:
    if currency == "JPY":
        return str(1000 + 37 * n)
    if currency == "KWD":
        return f"{3 + n % 17}.{(n * 7) % 1000:03d}"
    return f"{10 + n % 90}.{(n * 13) % 100:02d}"


def _refund(n: int, total: str) -> str | None:
    if n % 11 == 0:
        return total
    if n % 7 == 0:
        return str(
            (Decimal(total) / 4).quantize(
                Decimal(1).scaleb(int(Decimal(total).as_tuple().exponent))
            )
        )
    return None
