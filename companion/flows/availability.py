"""Whether the shop can sell a product now, from what its last `product.updated` said: mails
name only such products (docs/flows.md, "Products that cannot be bought").

`status` carries the stock status where the store has one (the plugin and the WooCommerce
mapping send `instock`, `outofstock` or `onbackorder` for a published product, else the post
status: `draft`, `pending`, `private`, `trash` ...). A product the catalogue never described
(status and stock unknown) is offered as before.
"""

from __future__ import annotations

from typing import Any

from companion.models import Product

SELLABLE_STATUSES = ("publish", "instock", "onbackorder")


def is_sellable(status: str | None, stock_quantity: int | None) -> bool:
    """In stock (or stock not managed) and published."""
    if status and status not in SELLABLE_STATUSES:
        return False
    return stock_quantity is None or stock_quantity > 0


def sellable() -> Any:
    """is_sellable() as a condition on Product rows."""
    return (
        Product.status.is_null() | (Product.status == "") | Product.status.in_(SELLABLE_STATUSES)
    ) & (Product.stock_quantity.is_null() | (Product.stock_quantity > 0))
