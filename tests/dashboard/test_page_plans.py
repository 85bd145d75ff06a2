"""Every dashboard page and CSV export reads roll-ups and bounded index ranges: its cost must not
grow with the store's history (issue 19: pages under 100 ms at a million orders).

As in tests/service/test_query_plans.py, SQLite plans from the schema alone, so the plans of this
small shop are the plans of a store with a million orders. A statement that walks a site's whole
range of orders, order lines, refunds or contacts (the site alone, or the site and a one-sided
range) reads all of them on every request.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from companion.dashboard.pages import TABLES
from tests.dashboard.session import sign_in
from tests.helpers import is_sqlite
from tests.service.test_query_plans import FULL_SCAN, SITE_WIDE, SMALL_PER_SITE, SUBQUERY

PAGES = ("/", "/?range=90d", "/?range=365d", "/customers", "/products?range=90d", "/flows")
# Tables read a site at a time on purpose: the products a store describes (a few thousand rows at
# most; names and stock of the forecast).
WHOLE_SITE_OK = {*SMALL_PER_SITE, "product"}


AGGREGATE = re.compile(
    r"\b(?:COUNT|SUM|MIN|MAX|AVG)\(|GROUP BY|TEMP B-TREE FOR ORDER BY", re.IGNORECASE
)


def _bounded(sql: str, plan: str) -> bool:
    """A plain read with a LIMIT that walks an index in its own order stops after that many rows
    (`exists()`, the top customers down the spend index)."""
    return bool(re.search(r"LIMIT \?", sql)) and not AGGREGATE.search(sql + " " + plan)


def _walked(sql: str, plan: str) -> list[str]:
    if _bounded(sql, plan):
        return []
    own = {name for pair in SUBQUERY.findall(plan) for name in pair if name}
    indexes = [
        i for i in SITE_WIDE.findall(plan) if not any(i.startswith(t + "_") for t in WHOLE_SITE_OK)
    ]
    return indexes + [t for t in FULL_SCAN.findall(plan) if t not in own and t not in WHOLE_SITE_OK]


@pytest.fixture
def plans(client: Any, shop: Any, db: Any) -> dict[str, str]:
    if not is_sqlite(db):
        pytest.skip(
            "SQLite's plans come from the schema alone; the other engines plan from statistics"
        )
    sign_in(client, shop)
    base = f"/dashboard/{shop.site.public_id}"
    seen: dict[str, str] = {}
    execute = db.execute_sql

    def explaining(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if sql.lstrip()[:6].upper() == "SELECT" and sql not in seen:
            rows = execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            seen[sql] = " | ".join(r[-1] for r in rows)
        return execute(sql, params, *args, **kwargs)

    db.execute_sql = explaining
    try:
        for path in [*PAGES, *(f"/export/{key}.csv?range=90d" for key in TABLES)]:
            answer = client.get(base + path)
            assert answer.status_code == 200, path
            answer.get_data()
    finally:
        del db.execute_sql
    return seen


def test_no_page_or_export_walks_a_stores_whole_history(plans: dict[str, str]) -> None:
    walks = {sql: plan for sql, plan in plans.items() if _walked(sql, plan)}
    assert len(plans) > 20  # every page and export ran
    statements = " ".join(plans)
    for table in ("product_outlook", "units_change", "rollup_dimension"):
        assert f'FROM "{table}"' in statements, table  # the stored outlook: read and computed
    assert not walks, "\n\n".join(f"{plan}\n  {sql[:600]}" for sql, plan in walks.items())
