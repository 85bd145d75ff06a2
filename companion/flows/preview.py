"""A flow step rendered for one contact now, as the sender would render it, without recording or
counting anything: the owner's preview and test send (docs/flows.md, "Preview and test send").

The contact's own enrolment in the flow is used when there is one; otherwise the enrolment the
flow's trigger would make from what is stored about them (their latest cart, order, product views,
subscription). Links point where the shopper's would lead, untracked, and the unsubscribe link is
a dead one: a preview or a test must never record a click or unsubscribe anybody.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from peewee import PeeweeException

from companion.email.rendering import RenderedEmail, render_email, sample_context
from companion.email.sendgrid import OutgoingMessage
from companion.flows.config import FlowConfig, flow_config, with_draft
from companion.flows.content import NothingToShow, base_context, build_context
from companion.flows.definitions import FLOWS
from companion.models import (
    Cart,
    Contact,
    Enrolment,
    Order,
    OrderItem,
    ProductView,
    Site,
    Subscription,
)

TEST_PREFIX = "[Test] "
TEST_CATEGORY = "sales-companion-test"


class PreviewError(ValueError):
    """The step cannot be rendered for this contact; `fields` as marshmallow nests them."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(str(fields))
        self.fields = fields


def check_step(key: str, step: int) -> None:
    count = len(FLOWS[key].delays_hours)
    if not 1 <= step <= count:
        raise PreviewError(
            {
                "step": [
                    f"{key} has steps 1 to {count}, not {step}."
                    if count > 1
                    else f"{key} has one step (1), not {step}."
                ]
            }
        )


# --- whose mail: the contact and the enrolment it would come from --------------------------------


def _newest_cart(site_id: int, contact_id: int | None = None) -> Cart | None:
    query = Cart.select().where(
        Cart.site == site_id,
        Cart.contact.is_null(False),
        Cart.status.not_in(("emptied", "converted")),
        Cart.value > 0,
    )
    if contact_id is not None:
        query = query.where(Cart.contact == contact_id)
    return query.order_by(Cart.updated_at.desc()).first()


def _newest_order(site_id: int, contact_id: int | None = None) -> Order | None:
    query = Order.select().where(
        Order.site == site_id,
        Order.contact.is_null(False),
        Order.counted_at.is_null(False),
        Order.deleted_at.is_null(),
    )
    if contact_id is not None:
        query = query.where(Order.contact == contact_id)
    return query.order_by(Order.counted_at.desc()).first()


def _newest_view(site_id: int, contact_id: int | None = None) -> ProductView | None:
    query = ProductView.select().where(
        ProductView.site == site_id, ProductView.contact.is_null(False)
    )
    if contact_id is not None:
        query = query.where(ProductView.contact == contact_id)
    return query.order_by(ProductView.occurred_at.desc()).first()


def _newest_subscription(site_id: int, contact_id: int | None = None) -> Subscription | None:
    query = Subscription.select().where(
        Subscription.site == site_id,
        Subscription.contact.is_null(False),
        Subscription.expires_at.is_null(False),
    )
    if contact_id is not None:
        query = query.where(Subscription.contact == contact_id)
    return query.order_by(Subscription.expires_at.desc()).first()


def _newest_enrolment(site_id: int, key: str, contact_id: int | None = None) -> Enrolment | None:
    query = Enrolment.select().where(Enrolment.site == site_id, Enrolment.flow_key == key)
    if contact_id is not None:
        query = query.where(Enrolment.contact == contact_id)
    return query.order_by(Enrolment.enrolled_at.desc()).first()


def sample_contact(site: Site, key: str) -> Contact | None:
    """A contact of the store this flow could mail: the newest one it enrolled, else the newest
    with what its trigger needs (a cart, an order, product views, a subscription)."""
    row: Any = _newest_enrolment(site.id, key)
    if row is None:
        finders = {
            "abandoned_cart": _newest_cart,
            "browse_abandonment": _newest_view,
            "renewal_reminder": _newest_subscription,
        }
        row = finders.get(key, _newest_order)(site.id)
    contact_id = row.contact_id if row is not None else None
    return (
        Contact.get_or_none(Contact.id == contact_id, Contact.erased_at.is_null())
        if contact_id
        else None
    )


# what a customer needs before a flow can mail them, for the owner (sample_reason)
_NEEDS = {
    "abandoned_cart": "left a cart with their email",
    "browse_abandonment": "viewed products while their email was known",
    "renewal_reminder": "a subscription or licence with an expiry date",
}


def sample_reason(key: str) -> str:
    """Why a preview shows made-up values: no customer of the store has what this flow mails
    about yet (the names, products and amounts in it are not the store's)."""
    needs = _NEEDS.get(key, "placed an order")
    return (
        f"Sample values: no customer of your store has {needs} yet, so the names, products and "
        "amounts here are made up. Once one has, this preview shows their mail."
    )


def _trigger_context(site: Site, key: str, contact: Contact) -> dict[str, Any]:
    """What the trigger would put in the enrolment of this contact now; PreviewError when the
    contact has nothing this flow is about."""
    if key == "abandoned_cart":
        cart = _newest_cart(site.id, contact.id)
        if cart is not None:
            return {"cart_id": cart.id}
        raise PreviewError(
            {
                "email": [
                    "This contact has no cart with items: this flow has nothing to remind them of."
                ]
            }
        )
    if key == "browse_abandonment":
        views = (
            ProductView.select(ProductView.product_id, ProductView.occurred_at)
            .where(ProductView.site == site.id, ProductView.contact == contact.id)
            .order_by(ProductView.occurred_at.desc())
            .limit(20)
        )
        ids = list(dict.fromkeys(str(v.product_id) for v in views))[:4]
        if ids:
            return {"product_ids": ids}
        raise PreviewError(
            {"email": ["This contact viewed no products: this flow has nothing to show them."]}
        )
    if key == "renewal_reminder":
        sub = _newest_subscription(site.id, contact.id)
        if sub is not None:
            return {"subscription_id": sub.id}
        raise PreviewError(
            {"email": ["This contact has no subscription or licence with an expiry date."]}
        )
    order = _newest_order(site.id, contact.id)
    if order is None and key in ("post_purchase", "cross_sell", "replenishment"):
        raise PreviewError(
            {"email": ["This contact has no paid order: this flow has nothing to follow up."]}
        )
    if key == "replenishment":
        item = (
            OrderItem.select()
            .where(OrderItem.order == order.id, OrderItem.product_id.is_null(False))
            .first()
        )
        if item is None:
            raise PreviewError({"email": ["This contact's last order has no product to restock."]})
        return {"product_id": item.product_id}
    return (
        {"order_id": order.id}
        if order is not None and key in ("post_purchase", "cross_sell")
        else {}
    )


def enrolment_for(site: Site, key: str, contact: Contact, now: datetime) -> Enrolment:
    """The contact's newest enrolment in the flow, else the one its trigger would make now
    (not saved)."""
    found = _newest_enrolment(site.id, key, contact.id)
    if found is not None:
        return found
    return Enrolment(
        site=site.id,
        flow_key=key,
        key="preview",
        contact=contact.id,
        context=_trigger_context(site, key, contact),
        started_at=now,
        enrolled_at=now,
    )


# --- rendering ------------------------------------------------------------------------------------


def _untracked(url: str) -> str:
    return url


def _render(
    site: Site, flow: FlowConfig, step: int, context: dict[str, Any], public_url: str
) -> RenderedEmail:
    # every step sent carries the link (a transactional one names it for marketing emails)
    unsubscribe = f"{public_url.rstrip('/')}/u/preview"
    return render_email(
        flow.definition.key,
        step,
        context,
        _untracked,
        unsubscribe_url=unsubscribe,
        marketing=flow.definition.is_marketing_step(step),
    )


def render_step(
    site: Site,
    key: str,
    step: int,
    contact: Contact | None,
    now: datetime,
    public_url: str,
    draft: dict[str, Any] | None = None,
    variant: str | None = None,
) -> RenderedEmail:
    """Subject, HTML and text of one step for `contact` now (None: the store's sample contact,
    else sample values with the store's name), with the flow's `draft` changes over the saved
    ones when given (`config.flow_changes` shape); `variant` "B": with the step's subject B.
    Raises PreviewError naming the field at fault."""
    check_step(key, step)
    flow = flow_config(site, key, with_draft(site.id, key, draft))
    if variant == "B" and not flow.step(step).subject_b:
        raise PreviewError({"variant": [f"Step {step} has no subject B (no A/B test)."]})
    contact = contact or sample_contact(site, key)
    if contact is None:
        context = {**sample_context(key, step), **base_context(site, None, flow, step, variant)}
        context["contact"] = {"first_name": "Ann"}
        return dataclasses.replace(
            _render(site, flow, step, context, public_url), sample_values=sample_reason(key)
        )
    enrolment = enrolment_for(site, key, contact, now)
    try:
        return _render(
            site,
            flow,
            step,
            build_context(site, enrolment, contact, flow, step, now, variant=variant),
            public_url,
        )
    except NothingToShow as exc:
        raise PreviewError(
            {"step": [f"Step {step} would be skipped for this contact: {exc}."]}
        ) from None
    except PeeweeException:
        raise
    except Exception as exc:  # what the sender records as "not rendered" or "render failed"
        raise PreviewError(
            {"email": [f"This step cannot be rendered for this contact: {exc}"]}
        ) from exc


# --- test send ------------------------------------------------------------------------------------


def test_message(
    site: Site, key: str, step: int, to: str, rendered: RenderedEmail
) -> OutgoingMessage:
    """The mail a test send hands to SendGrid: marked in its subject and by a category, with no
    message id of ours (SendGrid's events for it are ignored: nothing is recorded or counted)."""
    flow = flow_config(site, key)
    return OutgoingMessage(
        message_id=f"test-{uuid.uuid4()}",
        to_email=to,
        from_email=flow.from_email,
        from_name=flow.from_name,
        reply_to=flow.reply_to,
        subject=TEST_PREFIX + rendered.subject,
        html=rendered.html,
        text=rendered.text,
        categories=[TEST_CATEGORY, key],
        custom_args={"sc_test": "true", "flow": key, "step": str(step)},
    )
