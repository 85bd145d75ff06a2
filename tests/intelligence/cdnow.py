"""The CDNOW reference sample, read from shared/data beside the repository."""
from __future__ import annotations

from pathlib import Path

import numpy as np

CDNOW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow"


def customers_summary() -> np.ndarray:
    return np.genfromtxt(CDNOW / "cdnow_customers_summary.csv", delimiter=",", names=True)


def summary_with_spend() -> np.ndarray:
    return np.genfromtxt(CDNOW / "cdnow_customers_summary_with_transactions.csv",
                         delimiter=",", names=True)
