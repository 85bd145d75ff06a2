"""Small numeric helpers shared by the model fits."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def dot(u: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    """Inner product of two long vectors without BLAS.

    A multi-threaded BLAS dot on 100k elements costs more in thread wake-ups than it saves,
    badly so on a busy machine (a fit went from 130 ms to over a second); einsum's
    single-threaded loop is steady.
    """
    return float(np.einsum("i,i->", u, v))
