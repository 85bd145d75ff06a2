"""Bought-together product pairs: support, confidence (both directions) and lift.

One sparse order x product incidence matrix X (a product counts once per order however many
lines or units it has); X.T @ X gives every pair's co-occurrence count in one product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse


@dataclass(frozen=True)
class Pairs:
    """One row per unordered pair (product_a < product_b), strongest lift first."""

    product_a: NDArray[np.int64]
    product_b: NDArray[np.int64]
    count: NDArray[np.int64]
    support: NDArray[np.float64]
    confidence_a_to_b: NDArray[np.float64]
    confidence_b_to_a: NDArray[np.float64]
    lift: NDArray[np.float64]
    n_orders: int

    def __len__(self) -> int:
        return int(self.count.size)

    def for_product(self, product_id: int) -> list[dict[str, float | int]]:
        """Partners of one product, as "bought X, also bought Y" rows (confidence X -> Y)."""
        rows = []
        for k in np.flatnonzero((self.product_a == product_id) | (self.product_b == product_id)):
            is_a = self.product_a[k] == product_id
            rows.append(
                {
                    "product_id": int(self.product_b[k] if is_a else self.product_a[k]),
                    "count": int(self.count[k]),
                    "support": float(self.support[k]),
                    "confidence": float(
                        self.confidence_a_to_b[k] if is_a else self.confidence_b_to_a[k]
                    ),
                    "lift": float(self.lift[k]),
                }
            )
        return sorted(rows, key=lambda row: (-row["lift"], -row["count"], row["product_id"]))


def incidence_matrix(
    order_ids: ArrayLike, product_ids: ArrayLike
) -> tuple[sparse.csr_matrix, NDArray[np.int64]]:
    """Binary orders x products matrix and the product id of each column."""
    orders = np.asarray(order_ids).ravel()
    products = np.asarray(product_ids, dtype=np.int64).ravel()
    if orders.size != products.size:
        raise ValueError("order_ids and product_ids must have the same length")
    _, row = np.unique(orders, return_inverse=True)
    columns, col = np.unique(products, return_inverse=True)
    data = np.ones(orders.size, dtype=np.int32)
    shape = (int(row.max()) + 1 if row.size else 0, columns.size)
    matrix = sparse.csr_matrix((data, (row.ravel(), col.ravel())), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1  # duplicate lines of one product in one order were summed; count once
    return matrix, columns


def bought_together(
    order_ids: ArrayLike, product_ids: ArrayLike, *, min_count: int = 2, min_support: float = 0.0
) -> Pairs:
    """All pairs bought together in at least ``min_count`` orders and ``min_support`` share."""
    matrix, columns = incidence_matrix(order_ids, product_ids)
    n_orders = matrix.shape[0]
    item_count = np.asarray(matrix.sum(axis=0)).ravel().astype(np.int64)
    co = sparse.triu(matrix.T @ matrix, k=1).tocoo()
    threshold = max(min_count, int(np.ceil(min_support * n_orders - 1e-9)), 1)
    keep = co.data >= threshold
    i, j, count = co.row[keep], co.col[keep], co.data[keep].astype(np.int64)
    return _pairs(columns, item_count, i, j, count, n_orders)


def _pairs(
    columns: NDArray[np.int64],
    item_count: NDArray[np.int64],
    i: NDArray[np.int32],
    j: NDArray[np.int32],
    count: NDArray[np.int64],
    n_orders: int,
) -> Pairs:
    n = max(n_orders, 1)
    support = count / n
    conf_ab = count / item_count[i]
    conf_ba = count / item_count[j]
    lift = count * n / (item_count[i].astype(float) * item_count[j])
    order = np.lexsort((columns[j], columns[i], -count, -lift))
    return Pairs(
        columns[i][order],
        columns[j][order],
        count[order],
        support[order],
        conf_ab[order],
        conf_ba[order],
        lift[order],
        n_orders,
    )
