"""Peewee models, one module per family; this package re-exports them."""
from __future__ import annotations

from companion.models.base import BaseModel, JSONField, MoneyField, UTCDateTimeField, utcnow
from companion.models.commerce import Cart, Order, OrderItem, Product, Refund, Subscription
from companion.models.customers import Contact, ProductView, Visit, Visitor
from companion.models.events import DeadLetter, RawEvent
from companion.models.imports import ImportCheckpoint
from companion.models.messaging import Enrolment, FlowSetting, Message, MessageBody, ScheduledStep, Suppression
from companion.models.sites import Site
from companion.models.attribution import CartEmail, EmailTouch, OrderAttribution  # noqa: E402
from companion.models.rollups import CustomerLedger, CustomerOrderDay, RollupCarts, RollupDaily, RollupDimension, RollupSessions  # noqa: E402,E501

CORE_MODELS: list[type[BaseModel]] = [
    Site, RawEvent, DeadLetter, Contact, Visitor, Visit, ProductView,
    Product, Order, OrderItem, Refund, Cart, Subscription,
]

__all__ = [
    "BaseModel", "JSONField", "MoneyField", "UTCDateTimeField", "utcnow", "CORE_MODELS",
    "Cart", "Order", "OrderItem", "Product", "Refund", "Subscription",
    "Contact", "ProductView", "Visit", "Visitor", "DeadLetter", "RawEvent", "Site",
    "CartEmail", "EmailTouch", "OrderAttribution", "CustomerLedger", "CustomerOrderDay", "RollupCarts", "RollupDaily", "RollupDimension", "RollupSessions",  # noqa: E501
    "ImportCheckpoint",
    "Enrolment", "FlowSetting", "Message", "MessageBody", "ScheduledStep", "Suppression",
]
