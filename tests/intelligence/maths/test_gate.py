from __future__ import annotations

from companion.intelligence.maths.gate import data_gate


def test_predictions_open_at_500_customers_and_180_days() -> None:
    assert data_gate(500, 180) == (True, "")


def test_the_gate_says_what_is_missing() -> None:
    ok, reason = data_gate(499, 200)
    assert not ok and reason == "499 customers with orders, predictions need 500"
    ok, reason = data_gate(20, 30)
    assert not ok and "20 customers" in reason and "30 days of order history" in reason
