"""The data gate of DESIGN section 4: when predictions are trustworthy enough to show."""

from __future__ import annotations

MIN_CUSTOMERS = 500
MIN_HISTORY_DAYS = 180


def data_gate(n_customers: int, history_days: float) -> tuple[bool, str]:
    """(True, "") when there are >= 500 customers with orders and >= 180 days of history."""
    missing = []
    if n_customers < MIN_CUSTOMERS:
        missing.append(f"{n_customers} customers with orders, predictions need {MIN_CUSTOMERS}")
    if history_days < MIN_HISTORY_DAYS:
        missing.append(
            f"{history_days:g} days of order history, predictions need {MIN_HISTORY_DAYS}"
        )
    if missing:
        return False, "; ".join(missing)
    return True, ""
