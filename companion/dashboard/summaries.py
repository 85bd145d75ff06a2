"""Customer figures to date (stages, segments, cohorts) kept ready in Redis.

They group every contact or every customer-day of a site, which at a million orders takes
seconds; they change only when the nightly intelligence refresh or new orders move them. So a
page reads the cached summary (at most CACHE_S old), computes it once when there is none, and
the scheduler's `refresh_viewed` job recomputes it for the sites whose dashboard was opened in
the last day, so owners who come back every morning never wait.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from companion import runtime
from companion.dashboard import customers
from companion.dashboard.tables import Table
from companion.models import Site

CACHE_S = 15 * 60
VIEWED_KEY = "companion:dashboard:viewed"
VIEWED_WITHIN_S = 24 * 3600


def _key(site: Site) -> str:
    return f"companion:dashboard:customers:{site.id}"


def compute(site: Site) -> dict[str, Any]:
    cohort_data = customers.cohorts(site)
    tables = [customers.stages(site), customers.segments(site), customers.cohort_table(cohort_data)]
    return {"at": time.time(), "cohorts": cohort_data, "tables": [_dump(t) for t in tables]}


def summary(site: Site) -> dict[str, Any]:
    """The cached summary of this site (computed now if missing or stale); marks the site viewed."""
    redis = runtime.redis_connection()
    redis.zadd(VIEWED_KEY, {str(site.id): time.time()})
    raw = cast("bytes | None", redis.get(_key(site)))
    data = json.loads(raw) if raw else None
    if data is None or time.time() - data["at"] > CACHE_S:
        data = store(site)
    data["tables"] = {t["key"]: _load(t) for t in data["tables"]}
    data["as_of"] = datetime.fromtimestamp(data["at"], ZoneInfo(site.timezone))
    return data


def store(site: Site) -> dict[str, Any]:
    data = compute(site)
    runtime.redis_connection().set(_key(site), json.dumps(data, default=str), ex=CACHE_S * 4)
    return data


def refresh_viewed() -> int:
    """Recompute the summaries of sites viewed in the last day. Harmless to repeat: it only
    overwrites a cache entry with fresher figures."""
    from companion.db import database

    redis = runtime.redis_connection()
    redis.zremrangebyscore(VIEWED_KEY, 0, time.time() - VIEWED_WITHIN_S)
    ids = [int(i) for i in cast("list[bytes]", redis.zrange(VIEWED_KEY, 0, -1))]
    with database.connection_context():
        for site in Site.select().where(Site.id.in_(ids)):
            store(site)
    return len(ids)


def _dump(table: Table) -> dict[str, Any]:
    return {"key": table.key, "title": table.title, "empty": table.empty, "caption": table.caption,
            "columns": [c.__dict__ for c in table.columns], "rows": table.rows}


def _load(data: dict[str, Any]) -> Table:
    from companion.dashboard.tables import Column

    columns = [Column(**c) for c in data["columns"]]
    kinds = {c.key: c.kind for c in columns}
    rows = [{k: _value(v, kinds.get(k, "text")) for k, v in row.items()} for row in data["rows"]]
    return Table(data["key"], data["title"], columns, rows, data["empty"], data["caption"])


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "money":
        return Decimal(str(value))
    if kind == "date" and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
