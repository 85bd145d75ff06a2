"""Where a dashboard page's time goes: each statement (ms to execute and fetch, rows fetched) and
the Python functions that cost most, for one signed-in request of each path.

    .venv/bin/python bench/profile_page.py --database-url sqlite:////path/to/large.db \
        /products?range=90d /?range=365d

Paths are relative to the site's dashboard (`/dashboard/<site>`); a path that starts with /v1/
is an API route, requested with a bench token written to the site (the store is changed). Two
requests warm up first; then one traced request (statements) and --repeat profiled ones
(cProfile, cumulative time of the companion functions).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from typing import Any

from bench_pages import app_for  # run as a script: bench/ is on the path

from companion.core.db import database
from companion.dashboard.auth import login_link
from companion.models import Site
from companion.sites import hash_token

TOKEN = "sc_bench_pages_token"


class _Counting:
    """A cursor that counts the rows it hands out and the time spent fetching them."""

    def __init__(self, cursor: Any, record: list[Any]) -> None:
        self._cursor, self._record = cursor, record

    def _timed(self, fetch: Any, *args: Any) -> Any:
        began = time.perf_counter()
        out = fetch(*args)
        self._record[0] += (time.perf_counter() - began) * 1000
        if isinstance(out, list):
            self._record[1] += len(out)
        elif out is not None:
            self._record[1] += 1
        return out

    def fetchone(self) -> Any:
        return self._timed(self._cursor.fetchone)

    def fetchall(self) -> Any:
        return self._timed(self._cursor.fetchall)

    def fetchmany(self, *args: Any) -> Any:
        return self._timed(self._cursor.fetchmany, *args)

    def __iter__(self) -> Any:
        return iter(self.fetchall())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def traced(client: Any, url: str, headers: dict[str, str]) -> list[list[Any]]:
    db = database.obj
    execute = db.execute_sql
    statements: list[list[Any]] = []

    def tracing(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        cursor = execute(sql, params, *args, **kwargs)
        record = [(time.perf_counter() - began) * 1000, 0, sql]
        statements.append(record)
        return _Counting(cursor, record)

    db.execute_sql = tracing
    try:
        client.get(url, headers=headers).get_data()
    finally:
        del db.execute_sql
    return statements


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    app = app_for(args.database_url)
    with app.app_context():
        site = Site.select().order_by(Site.id.desc()).first()
        link = login_link(site, "http://bench.test").removeprefix("http://bench.test")
        if any(p.startswith("/v1/") for p in args.paths):
            Site.update(api_token_hash=hash_token(TOKEN)).where(Site.id == site.id).execute()
    client = app.test_client()
    assert client.get(link).status_code == 302
    for path in args.paths:
        api = path.startswith("/v1/")
        url = (
            path.replace("{site}", site.public_id) if api else f"/dashboard/{site.public_id}{path}"
        )
        headers = {"Authorization": f"Bearer {TOKEN}"} if api else {}
        for _ in range(2):
            assert client.get(url, headers=headers).status_code == 200, url
        began = time.process_time()
        statements = traced(client, url, headers)
        cpu = (time.process_time() - began) * 1000
        print(f"\n== {path}: {len(statements)} statements, traced request {cpu:.1f} ms CPU")
        for ms, rows, sql in sorted(statements, key=lambda s: -s[0]):
            print(f"{ms:8.1f} ms {rows:7d} rows  {' '.join(sql.split())[:220]}")
        profile = cProfile.Profile()
        began = time.process_time()
        profile.enable()
        for _ in range(args.repeat):
            client.get(url, headers=headers).get_data()
        profile.disable()
        cpu = (time.process_time() - began) * 1000 / args.repeat
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        stats.print_stats(r"companion/|numpy|sqlite|peewee.py.*(execute|iterate)", args.top)
        print(f"-- profiled: {cpu:.1f} ms CPU a request (with the profiler's overhead)")
        print(out.getvalue().split("\n", 6)[-1])


if __name__ == "__main__":
    main()
