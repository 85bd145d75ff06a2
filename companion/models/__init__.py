"""Peewee models, one module per family; this package re-exports them."""

from __future__ import annotations

from companion.models.attribution import CartEmail, EmailTouch, OrderAttribution
from companion.models.base import BaseModel, JSONField, MoneyField, UTCDateTimeField, utcnow
from companion.models.commerce import (
    Cart,
    DeletedRefund,
    Order,
    OrderItem,
    Product,
    Refund,
    Subscription,
)
from companion.models.customers import Contact, ProductView, Visit, Visitor
from companion.models.events import DeadLetter, RawEvent
from companion.models.imports import ImportCheckpoint
from companion.models.messaging import (
    Enrolment,
    FlowSetting,
    IssuedCoupon,
    Message,
    MessageBody,
    ScheduledStep,
    Suppression,
)
from companion.models.rollups import (
    CohortMonth,
    CustomerLedger,
    CustomerOrderDay,
    RollupCarts,
    RollupDaily,
    RollupDimension,
    RollupSessions,
)
from companion.models.sites import DashboardSession, Site

CORE_MODELS: list[type[BaseModel]] = [
    Site,
    RawEvent,
    DeadLetter,
    Contact,
    Visitor,
    Visit,
    ProductView,
    Product,
    Order,
    OrderItem,
    Refund,
    Cart,
    Subscription,
]

__all__ = [
    "CORE_MODELS",
    "BaseModel",
    "Cart",
    "CartEmail",
    "CohortMonth",
    "Contact",
    "CustomerLedger",
    "CustomerOrderDay",
    "DashboardSession",
    "DeadLetter",
    "DeletedRefund",
    "EmailTouch",
    "Enrolment",
    "FlowSetting",
    "ImportCheckpoint",
    "IssuedCoupon",
    "JSONField",
    "Message",
    "MessageBody",
    "MoneyField",
    "Order",
    "OrderAttribution",
    "OrderItem",
    "Product",
    "ProductView",
    "RawEvent",
    "Refund",
    "RollupCarts",
    "RollupDaily",
    "RollupDimension",
    "RollupSessions",
    "ScheduledStep",
    "Site",
    "Subscription",
    "Suppression",
    "UTCDateTimeField",
    "Visit",
    "Visitor",
    "utcnow",
]
