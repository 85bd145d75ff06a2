"""Ann, Bob and their histories: the people the privacy tests export and erase."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from peewee import CharField, TextField, fn

from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import all_models

ANN, BOB = "ann@example.com", "bob@example.com"


def ann_history() -> list[dict[str, Any]]:
    at = iso(T0)
    return [
        f.page_view(
            "s-ann",
            iso(T0 - timedelta(minutes=20)),
            url="https://shop.example/?ref=ann@example.com",
        ),
        f.product_view("s-ann", iso(T0 - timedelta(minutes=19))),
        f.cart("cart-ann", at=iso(T0 - timedelta(minutes=15)), session="s-ann"),
        _with_phone(f.order(100, modified=at, created=at, paid=at), "+49 30 1234567"),
    ]


def ann_refund() -> dict[str, Any]:
    return f.refund(100, 900, "10.00", at=iso(T0 + timedelta(days=2)))


def _with_phone(event: dict[str, Any], phone: str) -> dict[str, Any]:
    event["contact"]["phone"] = phone
    return event


def bob_history() -> list[dict[str, Any]]:
    at = iso(T0 + timedelta(minutes=5))
    return [
        f.order(
            200,
            status="completed",  # delivered: the review request, which names him, goes too
            modified=at,
            created=at,
            paid=at,
            completed_at=at,
            email=BOB,
            total="25.00",
            items=[
                {"product_id": 8, "name": "Cup", "quantity": 1, "price": "25.00", "total": "25.00"}
            ],
        )
    ]


def rows_mentioning(email: str) -> list[tuple[str, str, Any]]:
    """(table, column, site id) of every row of every model whose text holds the address."""
    found = []
    for model in all_models():
        site_field = model._meta.fields.get("site")
        for field in model._meta.sorted_fields:
            if not isinstance(field, (CharField, TextField)):
                continue
            columns = [site_field if site_field is not None else field]
            for (site_id,) in (
                model.select(*columns).where(fn.LOWER(field).contains(email)).tuples()
            ):
                found.append(
                    (
                        model._meta.table_name,
                        field.name,
                        site_id if site_field is not None else None,
                    )
                )
    return found
