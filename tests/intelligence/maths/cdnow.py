"""The CDNOW reference sample (tests/data/cdnow; its source and licence in tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow"


def customers_summary() -> np.ndarray:
    return np.genfromtxt(CDNOW / "cdnow_customers_summary.csv", delimiter=",", names=True)


def summary_with_spend() -> np.ndarray:
    return np.genfromtxt(
        CDNOW / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )
