"""What each flow's template is given (docs/email.md lists the contexts), and the send-time check
that an enrolment still makes sense (the cart was not bought meanwhile, the order not refunded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from peewee import fn

from companion.email.tokens import make_recover_token
from companion.flows.availability import is_sellable, sellable
from companion.flows.config import FlowConfig
from companion.flows.coupons import for_template
from companion.flows.replenishment import reminded_products
from companion.models import (
    Cart,
    Contact,
    Enrolment,
    Order,
    OrderItem,
    Product,
    ProductView,
    Site,
    Subscription,
)

RECOVER_TTL_S = 30 * 24 * 3600
PLACED = ("pending", "on_hold", "processing", "completed")
OUT_OF_STOCK_RECHECK = timedelta(hours=6)
# An order's completion wakes its waiting review request at once (triggers._completed_orders);
# the daily recheck is the backstop for a completion the service did not hear of as a change.
COMPLETION_RECHECK = timedelta(days=1)
WAITING_FOR_COMPLETION = "order not completed yet"
# from payment: an order not completed by then (a store that never marks orders completed, a
# parcel lost) gets no review request; the flow goes on to its next step
COMPLETION_WAIT = timedelta(days=45)


def deferred_outcome(reason: str) -> str:
    """A step's outcome while it waits (sending._defer writes it; triggers find steps by it)."""
    return f"deferred: {reason}"[:60]


class Defer(Exception):
    """Not now: try the step again at `until` (None: the sender's default wait, the shopper being
    active again)."""

    def __init__(self, until: datetime | None = None, reason: str = "shopper active") -> None:
        super().__init__(reason)
        self.until, self.reason = until, reason


class SkipStep(Exception):
    """This step is not sent (its enrolment goes on to the next one); `reason` is its outcome."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NothingToShow(Exception):
    """A step whose point is a product list found no product to show: it is skipped, not sent."""

    reason = "no products to show"


def _ctx(enrolment: Enrolment) -> dict[str, Any]:
    return dict(enrolment.context or {})


# --- is the enrolment still relevant? ----------------------------------------------------------


def exit_reason(enrolment: Enrolment, now: datetime) -> str | None:
    """Why this enrolment should end before its next mail, or None; raises Defer to wait."""
    check = _CHECKS.get(enrolment.flow_key)
    return check(enrolment, now) if check else None


def orders_count_after(enrolment: Enrolment) -> datetime:
    """The moment after which a placed order ends this enrolment ("exits by an order"): the first
    product view (browse), the last purchase a win-back or replenishment was based on, otherwise
    the trigger's moment (the cart's last change, the order a cross-sell is about). An order
    placed before it that arrives late (a history import, an old order's update) ends nothing."""
    context = _ctx(enrolment)
    moment = (
        context.get("since")
        if enrolment.flow_key == "browse_abandonment"
        else context.get("last_order_at")
        if enrolment.flow_key in ("win_back", "replenishment")
        else None
    )
    return _naive(moment) if moment else enrolment.started_at


def _ordered_since(
    enrolment: Enrolment, since: datetime, products: list[str] | None = None
) -> bool:
    query = Order.select(Order.id).where(
        Order.site == enrolment.site_id,
        Order.contact == enrolment.contact_id,
        Order.status.in_(PLACED),
        Order.deleted_at.is_null(),
        Order.created_at > since,
    )
    if products is not None:
        query = query.join(OrderItem).where(OrderItem.product_id.in_(products or [""]))
    return query.exists()


def _cart_check(enrolment: Enrolment, now: datetime) -> str | None:
    cart = Cart.get_or_none(Cart.id == _ctx(enrolment).get("cart_id"))
    if (
        cart is None
        or cart.status == "converted"
        or _ordered_since(enrolment, orders_count_after(enrolment))
    ):
        return "order"
    if cart.status == "emptied":
        return "cart emptied"
    if cart.status == "active":
        raise Defer()
    return None


def _browse_check(enrolment: Enrolment, now: datetime) -> str | None:
    since = orders_count_after(enrolment)
    carts = Cart.select().where(
        Cart.site == enrolment.site_id,
        Cart.contact == enrolment.contact_id,
        Cart.updated_at >= since,
        Cart.status != "emptied",
    )
    return "cart or order" if carts.exists() or _ordered_since(enrolment, since) else None


def _order_check(enrolment: Enrolment, now: datetime) -> str | None:
    return "order" if _ordered_since(enrolment, orders_count_after(enrolment)) else None


def _post_purchase_check(enrolment: Enrolment, now: datetime) -> str | None:
    order = Order.get_or_none(Order.id == _ctx(enrolment).get("order_id"))
    if order is None or not order.is_counted or order.deleted_at is not None:
        return "cancelled"
    return "refund" if order.refunded_total > 0 else None


def _cross_sell_check(enrolment: Enrolment, now: datetime) -> str | None:
    refunded = _post_purchase_check(enrolment, now)
    return refunded or (
        "order" if _ordered_since(enrolment, orders_count_after(enrolment)) else None
    )


def _replenish_check(enrolment: Enrolment, now: datetime) -> str | None:
    """An order of any product the reminder names means they restocked. A reminder none of whose
    products the shop can sell now waits for them (rechecked every OUT_OF_STOCK_RECHECK) until
    its window closes (`until`, from the scan), then ends unsent."""
    context = _ctx(enrolment)
    products = reminded_products(context)
    if _ordered_since(enrolment, orders_count_after(enrolment), products):
        return "order"
    if _offerable(enrolment.site_id, products):
        return None
    until = _naive(context["until"]) if context.get("until") else None
    if until is not None and now < until:
        raise Defer(min(now + OUT_OF_STOCK_RECHECK, until), "out of stock")
    return "out of stock"


def wait_for_completion(enrolment: Enrolment, step: int, flow: FlowConfig, now: datetime) -> None:
    """A step about using what was ordered (the review request) goes once the order is completed:
    until then it waits (Defer; the order's completion wakes it, and it is rechecked every
    COMPLETION_RECHECK in case that was missed); an order still not completed
    COMPLETION_WAIT after payment gets none (SkipStep)."""
    if step not in flow.definition.after_completion_steps:
        return
    order = Order.get_or_none(Order.id == _ctx(enrolment).get("order_id"))
    if order is None or is_completed(order.status, order.completed_at):
        return
    give_up = enrolment.started_at + COMPLETION_WAIT
    if now >= give_up:
        raise SkipStep("order not completed")
    raise Defer(min(now + COMPLETION_RECHECK, give_up), WAITING_FOR_COMPLETION)


def is_completed(status: str, completed_at: Any) -> bool:
    return status == "completed" or completed_at is not None


def _naive(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _renewal_check(enrolment: Enrolment, now: datetime) -> str | None:
    sub = Subscription.get_or_none(Subscription.id == _ctx(enrolment).get("subscription_id"))
    if sub is None or sub.expires_at is None:
        return "cancelled"
    return "renewal" if f"{sub.expires_at:%Y%m%d}" != enrolment.key.rsplit(":", 1)[1] else None


_CHECKS = {
    "abandoned_cart": _cart_check,
    "browse_abandonment": _browse_check,
    "win_back": _order_check,
    "post_purchase": _post_purchase_check,
    "cross_sell": _cross_sell_check,
    "replenishment": _replenish_check,
    "renewal_reminder": _renewal_check,
}


# --- template context --------------------------------------------------------------------------


def base_context(
    site: Site, contact: Contact | None, flow: FlowConfig, step: int, variant: str | None = None
) -> dict[str, Any]:
    return {
        "shop": {
            "name": site.name,
            "url": site.url.rstrip("/") + "/",
            "address": flow.postal_address,
        },
        "contact": {"first_name": (contact.first_name if contact else None) or ""},
        "currency": site.currency,
        "overrides": flow.step(step).overrides(variant),
    }


def build_context(
    site: Site,
    enrolment: Enrolment,
    contact: Contact,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any] | None = None,
    variant: str | None = None,
) -> dict[str, Any]:
    """`memo` keeps what is the same for every recipient of a run (best sellers, co-purchases);
    `variant` "B" gives the step's subject B (an A/B test, flows/abtest.py)."""
    context = base_context(site, contact, flow, step, variant)
    builder = _BUILDERS.get(enrolment.flow_key)
    if builder:
        context.update(builder(site, enrolment, flow, step, now, {} if memo is None else memo))
    if step in flow.definition.product_steps and not context.get("products"):
        raise NothingToShow(NothingToShow.reason)
    return context


def products_by_id(site_id: int, ids: list[str]) -> dict[str, dict[str, Any]]:
    """What the catalogue says about these products, sellable now or not (an order's own lines)."""
    return {i: _describe(p) for i, p in _catalogue(site_id, ids).items()}


def _catalogue(site_id: int, ids: list[str]) -> dict[str, Product]:
    if not ids:
        return {}
    rows = Product.select().where(Product.site == site_id, Product.external_id.in_(ids))
    return {p.external_id: p for p in rows}


def _describe(p: Product) -> dict[str, Any]:
    return {"name": p.name, "price": _money(p.price), "url": p.url, "image": p.image}


def _offerable(site_id: int, ids: list[str]) -> list[str]:
    """The ids a mail may name, in their order: the shop can sell them now, or the catalogue
    never described them (they are named from the order or the view)."""
    known = _catalogue(site_id, ids)
    return [
        i for i in ids if i not in known or is_sellable(known[i].status, known[i].stock_quantity)
    ]


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def _items(site_id: int, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = products_by_id(
        site_id, [str(i.get("product_id")) for i in items if i.get("product_id")]
    )
    result = []
    for item in items:
        product = known.get(str(item.get("product_id")), {})
        result.append(
            {
                "name": item.get("name") or product.get("name"),
                "quantity": item.get("quantity"),
                "price": _money(item.get("price")) or product.get("price"),
                "url": product.get("url"),
                "image": product.get("image"),
            }
        )
    return result


def recommendations(
    site_id: int, product_ids: list[str], now: datetime, memo: dict[Any, Any], limit: int = 3
) -> list[dict[str, Any]]:
    """Bought together with these products (co-occurrence in orders), else the best sellers of
    the last 90 days; only products of the catalogue with a page that the shop can sell now;
    remembered in `memo` for the rest of the run."""
    return recommended_with(site_id, product_ids, now, memo, limit)[0]


def recommended_with(
    site_id: int, product_ids: list[str], now: datetime, memo: dict[Any, Any], limit: int = 3
) -> tuple[list[dict[str, Any]], bool]:
    """`recommendations`, and whether they are products bought together with these (True) or
    the best sellers that stand in for them (False): the mail must not call best sellers what
    customers bought with the order."""
    key = ("recommendations", site_id, tuple(product_ids))
    if key not in memo:
        together = _for_sale(site_id, _bought_with(site_id, product_ids, limit * 3), limit)
        memo[key] = (
            (together, True)
            if together
            else (
                _for_sale(site_id, _best_sellers(site_id, product_ids, now, limit * 3), limit),
                False,
            )
        )
    products, together = memo[key]
    return list(products), together


def _for_sale(site_id: int, ids: list[str], limit: int) -> list[dict[str, Any]]:
    """Catalogue products with a page, sellable now, in the order of `ids`."""
    if not ids:
        return []
    rows = Product.select().where(
        Product.site == site_id,
        Product.external_id.in_([str(i) for i in ids]),
        Product.url.is_null(False),
        Product.url != "",
        sellable(),
    )
    known = {p.external_id: _describe(p) for p in rows}
    return [known[str(i)] for i in ids if str(i) in known][:limit]


def _bought_with(site_id: int, product_ids: list[str], limit: int) -> list[str]:
    if not product_ids:
        return []
    other = OrderItem.alias()
    # Read as tuples: on model rows the aliased table's column is not set as `product_id`.
    query = (
        OrderItem.select(other.product_id)
        .join(other, on=(other.order == OrderItem.order))
        .where(
            OrderItem.site == site_id,
            OrderItem.product_id.in_(product_ids),
            other.product_id.is_null(False),
            other.product_id.not_in(product_ids),
        )
        .group_by(other.product_id)
        .order_by(fn.COUNT(other.id).desc())
        .limit(limit)
    )
    return [product_id for (product_id,) in query.tuples() if product_id]


def _best_sellers(site_id: int, exclude: list[str], now: datetime, limit: int) -> list[str]:
    query = (
        OrderItem.select(OrderItem.product_id)
        .join(Order)
        .where(
            Order.site == site_id,
            Order.counted_at >= now - timedelta(days=90),
            OrderItem.product_id.not_in(exclude or [""]),
        )
        .group_by(OrderItem.product_id)
        .order_by(fn.SUM(OrderItem.quantity).desc())
        .limit(limit)
    )
    return [product_id for (product_id,) in query.tuples() if product_id]


def _order(
    site: Site,
    enrolment: Enrolment,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any],
) -> dict[str, Any]:
    order = Order.get_by_id(_ctx(enrolment)["order_id"])
    items = list(OrderItem.select().where(OrderItem.order == order.id).dicts())
    ids = [str(i["product_id"]) for i in items if i["product_id"]]
    context: dict[str, Any] = {
        "currency": order.currency,
        "order": {
            "number": order.number or order.external_id,
            "total": str(order.total),
            "items": _items(site.id, items),
        },
    }
    first = products_by_id(site.id, ids[:1]).get(ids[0]) if ids else None
    if first and first.get("url"):
        context["review_url"] = first["url"] + "#reviews"
    if enrolment.flow_key == "cross_sell" or step == 3:
        context["products"], context["bought_together"] = recommended_with(site.id, ids, now, memo)
    return context


def _cart(
    site: Site,
    enrolment: Enrolment,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any],
) -> dict[str, Any]:
    cart = Cart.get_by_id(_ctx(enrolment)["cart_id"])
    items = cart.items or []
    token = make_recover_token(
        site.secret,
        site.public_id,
        cart.token,
        [i for i in items if i.get("product_id")],
        RECOVER_TTL_S,
        now=now.replace(tzinfo=UTC).timestamp(),
    )
    return {
        "currency": cart.currency or site.currency,
        "coupon": for_template(flow.extras.get("coupon"), site, now),
        "cart": {
            "items": _items(site.id, items),
            "value": str(cart.value),
            "restore_url": with_query(cart.checkout_url or site.url, "sc_recover", token),
        },
    }


def with_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{name}={value}" if parts.query else f"{name}={value}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment))


def _browse(
    site: Site,
    enrolment: Enrolment,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any],
) -> dict[str, Any]:
    ids = _offerable(site.id, [str(i) for i in _ctx(enrolment).get("product_ids", [])])
    known = products_by_id(site.id, ids)
    for view in ProductView.select().where(
        ProductView.site == site.id,
        ProductView.contact == enrolment.contact_id,
        ProductView.product_id.in_([i for i in ids if i not in known] or [""]),
    ):
        known[view.product_id] = {"name": view.name, "price": _money(view.price), "url": view.url}
    return {"products": [known[i] for i in ids if i in known]}


def _win_back(
    site: Site,
    enrolment: Enrolment,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any],
) -> dict[str, Any]:
    return {
        "products": recommendations(site.id, [], now, memo),
        "coupon": for_template(flow.extras.get("coupon"), site, now),
    }


def _vip(
    site: Site,
    enrolment: Enrolment | None,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any],
) -> dict[str, Any]:
    return {
        "products": recommendations(site.id, [], now, memo),
        "reward": flow.extras.get("reward"),
        "early_access_url": flow.extras.get("early_access_url"),
    }


def _replenish(
    site: Site,
    enrolment: Enrolment,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any],
) -> dict[str, Any]:
    """Every due product the shop can sell now (`products`); `product` is the first, for
    templates written for one. The sender's check has held a reminder with none."""
    ids = _offerable(site.id, reminded_products(_ctx(enrolment)))
    if not ids:
        raise NothingToShow("products out of stock")
    known = products_by_id(site.id, ids)
    products = [known.get(i) or _product_from_orders(site, i) for i in ids]
    return {
        "product": products[0],
        "products": products,
        "reorder_url": products[0].get("url") or site.url,
    }


def _product_from_orders(site: Site, product_id: str) -> dict[str, Any]:
    item = (
        OrderItem.select()
        .where(OrderItem.site == site.id, OrderItem.product_id == product_id)
        .first()
    )
    return {
        "name": item.name if item else "your product",
        "price": _money(item.price if item else None),
        "url": site.url,
    }


def _renewal(
    site: Site,
    enrolment: Enrolment,
    flow: FlowConfig,
    step: int,
    now: datetime,
    memo: dict[Any, Any],
) -> dict[str, Any]:
    sub = Subscription.get_by_id(_ctx(enrolment)["subscription_id"])
    product = products_by_id(site.id, [str(sub.product_id)]).get(str(sub.product_id)) or {}
    if not product.get("name"):
        item = (
            OrderItem.select()
            .where(OrderItem.site == site.id, OrderItem.product_id == str(sub.product_id))
            .first()
        )
        product["name"] = (
            item.name if item else ("licence" if sub.kind == "license" else "subscription")
        )
    local = sub.expires_at.replace(tzinfo=UTC).astimezone(ZoneInfo(site.timezone))
    return {
        "subscription": {
            "product_name": product["name"],
            "kind": sub.kind,
            "expires_at": f"{local.day} {local:%B %Y}",
            "price": product.get("price"),
            "renewal_url": sub.renewal_url or product.get("url") or site.url,
        }
    }


_BUILDERS = {
    "post_purchase": _order,
    "cross_sell": _order,
    "abandoned_cart": _cart,
    "browse_abandonment": _browse,
    "win_back": _win_back,
    "vip": _vip,
    "replenishment": _replenish,
    "renewal_reminder": _renewal,
}
