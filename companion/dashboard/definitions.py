"""What every number on the dashboard means: label, unit, and the definition its tooltip shows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "money", "count" or "percent"
    definition: str
    higher_is_better: bool = True


HEADLINE: tuple[Metric, ...] = (
    Metric(
        "total_revenue",
        "Total revenue",
        "money",
        "Sum of counted orders (processing, completed, or refunded after payment), tax and "
        "shipping "
        "included, on the day they were paid.",
    ),
    Metric(
        "net_revenue", "Net revenue", "money", "Total revenue minus refunds made in the period."
    ),
    Metric("orders", "Orders", "count", "Number of counted orders paid in the period."),
    Metric("aov", "Average order value", "money", "Total revenue divided by orders."),
    Metric(
        "conversion_rate",
        "Conversion rate",
        "percent",
        "Sessions with a counted order divided by sessions (a session ends after 30 idle minutes). "
        "Empty when the store sends no page views.",
    ),
    Metric(
        "cart_abandonment_rate",
        "Cart abandonment",
        "percent",
        "Carts created in the period and idle for an hour without an order, divided by those carts "
        "plus the carts that became orders.",
        higher_is_better=False,
    ),
    Metric(
        "repeat_purchase_rate",
        "Repeat-purchase rate",
        "percent",
        "Customers with two or more counted orders divided by all customers with an order, to the "
        "period's last day.",
    ),
    Metric(
        "email_revenue",
        "Email revenue",
        "money",
        "Net revenue of orders credited to an email: the customer's last click on a tracked link "
        "within 5 days before the order.",
    ),
)
BY_KEY = {m.key: m for m in HEADLINE}

COLUMN_HELP: dict[str, str] = {
    "revenue": "Sum of counted order totals in the period.",
    "refunds": "Refunds made in the period (a positive amount).",
    "net": "Revenue minus refunds.",
    "orders": "Counted orders paid in the period.",
    "units": "Units sold in counted orders paid in the period.",
    "refund_rate": "Orders containing the product that have any refund, divided by orders "
    "containing it.",
    "clv": "Historic customer lifetime value: the customer's net revenue to date.",
    "predicted_clv": "Expected net revenue in the next 365 days (BG/NBD purchases × Gamma-Gamma "
    "spend).",
    "p_alive": "Probability that the customer will still buy (BG/NBD).",
    "support": "Share of orders that contain both products.",
    "confidence": "Of the orders with the first product, the share that also contain the second.",
    "lift": "How much more often the pair is bought together than if they were independent (1 = "
    "chance).",
    "days_of_stock": "Days until the forecast demand uses up the current stock.",
    "forecast": "Forecast units for the next 28 days (weekday-seasonal smoothing, checked against "
    "last "
    "week's sales).",
    "share": "Share of the period's revenue.",
    "customers": "Contacts in the group.",
    "aov": "Revenue divided by orders.",
}
