"""WooCommerce REST v3 resources -> events of DESIGN 3.1, shared by native webhooks and the
importer.

Every function here takes the JSON WooCommerce sends (a webhook body or one element of a REST
collection) and returns events; nothing here does I/O. Event ids are uuid5 names built from the
store's own ids, so the same snapshot mapped twice is a duplicate and a changed snapshot is new.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

EVENT_NAMESPACE = uuid.UUID("5b0c3f57-64a6-5d2c-9a53-0c6a2f7d1e11")
ATTRIBUTION_PREFIX = "_wc_order_attribution_"
CLICK_ID_PARAMS = ("gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "twclid")
STATUS_MAP = {
    "pending": "pending",
    "processing": "processing",
    "on-hold": "on_hold",
    "completed": "completed",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "failed": "failed",
    "checkout-draft": "draft",
    "draft": "draft",
    "auto-draft": "draft",
    # Trashed orders leave WooCommerce's own reports; "cancelled" keeps them out of ours while
    # a later snapshot (restored from the trash) still wins by modified_at.
    "trash": "cancelled",
}
_PING = re.compile(rb"^webhook_id=\d+$")
_MAX_DECIMALS = Decimal("0.0001")


def order_to_events(
    order: Mapping[str, Any],
    *,
    source: str = "woocommerce",
    refund_dates: Mapping[int, str | None] | None = None,
) -> list[dict[str, Any]]:
    """One `order.updated` snapshot plus one `order.refunded` per refund inside the order.

    `refund_dates` maps refund id -> WooCommerce `date_created_gmt` where the caller fetched it
    (the order body carries no refund dates); without it a refund is dated at the order's last
    modification, which is when WooCommerce saved the refund for the newest one.
    """
    contact = order_contact(order)
    data = order_data(order)
    snapshot = _event("order.updated", source, data["modified_at"], contact, data)
    snapshot["id"] = _snapshot_id("order", order.get("id"), data["modified_at"], snapshot)
    refunds = [
        _refund_event(order, r, data, contact, source, refund_dates or {})
        for r in order.get("refunds") or []
    ]
    return [snapshot, *refunds]


def order_data(order: Mapping[str, Any]) -> dict[str, Any]:
    """The `data` of an `order.updated` event, exactly the keys DESIGN 3.1 lists."""
    meta = meta_dict(order.get("meta_data"))
    created_at = utc_iso(order.get("date_created_gmt"))
    modified_at = utc_iso(order.get("date_modified_gmt")) or created_at
    if created_at is None or modified_at is None:
        raise ValueError(f"WooCommerce order {order.get('id')!r} has no date_created_gmt")
    return {
        "id": order.get("id"),
        "number": _text(order.get("number") or order.get("id"), 64),
        "status": normalise_status(order.get("status"), paid=bool(order.get("date_paid_gmt"))),
        "currency": str(order.get("currency") or "").upper(),
        "total": money(order.get("total")),
        "subtotal": _subtotal(order.get("line_items") or []),
        "discount_total": money(order.get("discount_total")),
        "tax_total": money(order.get("total_tax")),
        "shipping_total": money(order.get("shipping_total")),
        "coupons": [c.get("code") for c in order.get("coupon_lines") or [] if c.get("code")],
        "items": [line_item(li) for li in order.get("line_items") or []],
        "payment_method": _text(order.get("payment_method"), 100),
        "created_via": _text(order.get("created_via"), 50),
        "attribution": attribution(meta),
        "device": _device(meta),
        "cart_token": None,
        "parent_id": order.get("parent_id") or None,
        "is_renewal": bool(meta.get("_subscription_renewal")),
        "created_at": created_at,
        "paid_at": _paid_at(order),
        "completed_at": utc_iso(order.get("date_completed_gmt")),
        "modified_at": modified_at,
    }


def _paid_at(order: Mapping[str, Any]) -> str | None:
    """date_paid; a refunded order without one (cash on delivery, bank transfer and cheque never set
    it) was paid when it was completed, else when it was created: its refund proves the payment."""
    paid = utc_iso(order.get("date_paid_gmt"))
    if paid is None and str(order.get("status") or "").removeprefix("wc-") == "refunded":
        paid = utc_iso(order.get("date_completed_gmt")) or utc_iso(order.get("date_created_gmt"))
    return paid


def order_contact(order: Mapping[str, Any]) -> dict[str, Any] | None:
    """The buyer from the billing address; a guest (customer_id 0) has no wp_user_id."""
    billing = order.get("billing") or {}
    return _contact(
        billing.get("email"),
        billing.get("first_name"),
        billing.get("last_name"),
        billing.get("phone"),
        order.get("customer_id"),
    )


def line_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """One line; a deleted product keeps its name with product_id None (WooCommerce sends 0)."""
    quantity = _quantity(item.get("quantity"))
    total = money(item.get("total"))
    return {
        "product_id": item.get("product_id") or None,
        "variation_id": item.get("variation_id") or None,
        "sku": _text(item.get("sku"), 100),
        "name": _text(html.unescape(str(item.get("name") or "")), 300),
        "quantity": quantity,
        "price": _unit_price(total, quantity, item.get("price")),
        "total": total,
        "categories": [],
    }


def attribution(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """WooCommerce's order attribution (8.5+) as DESIGN's attribution; None when none was stored."""
    values = {
        k: _attr(meta.get(ATTRIBUTION_PREFIX + k))
        for k in ("source_type", "utm_source", "utm_medium", "utm_campaign")
    }
    values["click_id"] = click_id(_attr(meta.get(ATTRIBUTION_PREFIX + "session_entry")))
    return values if any(v is not None for v in values.values()) else None


def click_id(entry_url: str | None) -> str | None:
    """Ad click id (gclid, fbclid, ...) from the session's landing URL, which WooCommerce keeps."""
    if not entry_url:
        return None
    query = parse_qs(urlsplit(entry_url).query)
    for name in CLICK_ID_PARAMS:
        if query.get(name) and query[name][0]:
            return _text(query[name][0], 200)
    return None


def normalise_status(status: Any, *, paid: bool = False) -> str:
    """WooCommerce status -> DESIGN status. Unknown (plugin) statuses such as `shipped` follow
    payment: processing once paid, pending before, so they count as orders only when paid."""
    key = str(status or "").strip().lower().removeprefix("wc-").replace("_", "-")
    return STATUS_MAP.get(key) or ("processing" if paid else "pending")


def product_to_event(product: Mapping[str, Any], *, source: str = "woocommerce") -> dict[str, Any]:
    """A `product.updated` snapshot of a REST v3 product."""
    images = product.get("images") or []
    data = {
        "id": product.get("id"),
        "name": _text(html.unescape(str(product.get("name") or "")), 300),
        "sku": _text(product.get("sku"), 100),
        "price": money(product.get("price"), default=None),
        "categories": [
            html.unescape(c["name"]) for c in product.get("categories") or [] if c.get("name")
        ],
        "url": _text(product.get("permalink"), 2000),
        "image": _text(images[0].get("src"), 2000) if images else None,
        "stock_quantity": product.get("stock_quantity"),
        "status": _text(product_status(product), 20),
    }
    at = _resource_time(product, "product")
    event = _event("product.updated", source, at, None, data)
    event["id"] = _snapshot_id("product", product.get("id"), at, event)
    return event


def product_status(product: Mapping[str, Any]) -> Any:
    """What `product.updated` carries as `status`, as the plugin sends it: a published product's
    stock status (`instock`, `outofstock`, `onbackorder`), else its post status (`draft`,
    `pending`, `private`), so the flows can tell what the shop sells now."""
    status = product.get("status")
    return (product.get("stock_status") or status) if status == "publish" else status


def customer_to_event(
    customer: Mapping[str, Any], *, source: str = "woocommerce"
) -> dict[str, Any]:
    """A `customer.updated` event: only the contact matters (DESIGN 3.1)."""
    billing = customer.get("billing") or {}
    contact = _contact(
        customer.get("email") or billing.get("email"),
        customer.get("first_name") or billing.get("first_name"),
        customer.get("last_name") or billing.get("last_name"),
        billing.get("phone"),
        customer.get("id"),
    )
    at = _resource_time(customer, "customer")
    event = _event("customer.updated", source, at, contact, {})
    event["id"] = _snapshot_id("customer", customer.get("id"), at, event)
    return event


def deleted_order_event(
    order_id: int | str, *, source: str = "woocommerce", occurred_at: datetime | None = None
) -> dict[str, Any]:
    """`order.deleted` for WooCommerce's order.deleted webhook (its body is just {"id": N})."""
    at = _format_utc((occurred_at or datetime.now(UTC)).astimezone(UTC))
    event = _event("order.deleted", source, at, None, {"order_id": order_id})
    # The time is part of the id: an order trashed, restored and trashed again is deleted twice,
    # and a stable id would make the second deletion a duplicate that is never applied.
    event["id"] = str(uuid.uuid5(EVENT_NAMESPACE, f"woo:order:{order_id}:deleted:{at}"))
    return event


def verify_wc_signature(secret: str, raw_body: bytes, header_value: str | None) -> bool:
    """X-WC-Webhook-Signature: base64 HMAC-SHA256 of the exact raw body, compared in constant time.

    WooCommerce signs with wp_specialchars_decode(secret), so a secret pasted with &amp; & co.
    as shown in an HTML source also verifies.
    """
    if not secret or not header_value:
        return False
    given = header_value.strip().encode()
    matches = [
        hmac.compare_digest(_signature(key, raw_body), given)
        for key in {secret, _wp_specialchars_decode(secret)}
    ]
    return any(matches)


def is_ping(content_type: str | None, body: bytes) -> bool:
    """The unsigned `webhook_id=N` form post WooCommerce sends when a webhook is saved."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in ("", "application/x-www-form-urlencoded"):
        return False
    return bool(_PING.match(body.strip()))


def money(value: Any, *, default: str | None = "0") -> str | None:
    """WooCommerce decimal string (or number) -> decimal string; never goes through float."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return default
    if not amount.is_finite():
        return default
    return _format_decimal(amount)


def utc_iso(value: Any) -> str | None:
    """A WooCommerce `_gmt` time (no offset, UTC) -> "YYYY-MM-DDTHH:MM:SSZ"; None when unset."""
    if not value or not isinstance(value, str) or value.startswith("0000"):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _format_utc(parsed)


def meta_dict(meta_data: Any) -> dict[str, Any]:
    """REST `meta_data` list -> {key: value}; the last value of a repeated key wins."""
    return {
        m["key"]: m.get("value") for m in meta_data or [] if isinstance(m, Mapping) and "key" in m
    }


def _refund_event(
    order: Mapping[str, Any],
    refund: Mapping[str, Any],
    data: Mapping[str, Any],
    contact: dict[str, Any] | None,
    source: str,
    refund_dates: Mapping[Any, str | None],
) -> dict[str, Any]:
    # REST v3 sends refunds[].total as "-" + amount; older controllers call the reason "refund".
    amount = money(str(refund.get("total") or "0").lstrip("-"))
    created_at = utc_iso(refund_dates.get(refund.get("id"))) or data["modified_at"]
    body = {
        "order_id": data["id"],
        "refund_id": refund.get("id"),
        "amount": amount,
        "reason": _text(refund.get("reason", refund.get("refund")), 2000),
        "created_at": created_at,
    }
    event = _event("order.refunded", source, created_at, contact, body)
    event["id"] = str(uuid.uuid5(EVENT_NAMESPACE, f"woo:refund:{refund.get('id')}"))
    return event


def _event(
    kind: str, source: str, occurred_at: str, contact: dict[str, Any] | None, data: dict[str, Any]
) -> dict[str, Any]:
    event: dict[str, Any] = {"id": "", "type": kind, "source": source, "occurred_at": occurred_at}
    if contact:
        event["contact"] = contact
    event["data"] = data
    return event


def _snapshot_id(kind: str, resource_id: Any, modified_at: str, event: Mapping[str, Any]) -> str:
    # The digest makes two different snapshots saved within the same second two events.
    canonical = json.dumps([event.get("contact"), event["data"]], sort_keys=True, default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return str(uuid.uuid5(EVENT_NAMESPACE, f"woo:{kind}:{resource_id}:{modified_at}:{digest}"))


def _contact(email: Any, first: Any, last: Any, phone: Any, user_id: Any) -> dict[str, Any] | None:
    values = {
        "email": _text(email, 254),
        "first_name": _text(first, 100),
        "last_name": _text(last, 100),
        "phone": _text(phone, 50),
        "wp_user_id": user_id or None,
    }
    contact = {k: v for k, v in values.items() if v is not None}
    return contact or None


def _resource_time(resource: Mapping[str, Any], kind: str) -> str:
    at = utc_iso(resource.get("date_modified_gmt")) or utc_iso(resource.get("date_created_gmt"))
    if at is None:
        raise ValueError(f"WooCommerce {kind} {resource.get('id')!r} has no _gmt dates")
    return at


def _subtotal(items: list[Mapping[str, Any]]) -> str:
    """WC_Order::get_subtotal(): the line items' subtotals, before discounts, without tax."""
    total = sum((Decimal(money(li.get("subtotal")) or "0") for li in items), Decimal("0.00"))
    return _format_decimal(total)


def _unit_price(total: str | None, quantity: int, rest_price: Any) -> str | None:
    """total / quantity (what WooCommerce's float `price` approximates) at the total's precision."""
    if not quantity or total is None:
        return money(rest_price, default=None)
    amount = Decimal(total)
    exponent = min(int(amount.as_tuple().exponent), -2)
    return _format_decimal((amount / quantity).quantize(Decimal(1).scaleb(exponent), ROUND_HALF_UP))


def _quantity(value: Any) -> int:
    try:
        return int(Decimal(str(value)).to_integral_value(ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        return 0


def _device(meta: Mapping[str, Any]) -> str | None:
    value = _attr(meta.get(ATTRIBUTION_PREFIX + "device_type"))
    return _text(value.lower(), 30) if value else None


def _attr(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text in ("", "(none)") else text


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def _format_decimal(amount: Decimal) -> str:
    if int(amount.as_tuple().exponent) < -4:
        amount = amount.quantize(_MAX_DECIMALS, ROUND_HALF_UP)
    return format(amount, "f")


def _format_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature(secret: str, raw_body: bytes) -> bytes:
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest())


def _wp_specialchars_decode(text: str) -> str:
    for entity, char in (
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", '"'),
        ("&#039;", "'"),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&amp;", "&"),
    ):
        text = text.replace(entity, char)
    return text
