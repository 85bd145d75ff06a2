"""What one signed delivery costs the web process, in-process (Flask's test client, no HTTP):
CPU seconds per request, trips to the database and to Redis per request, and with --profile
cProfile's top functions. Mixed batches of 1-20 events over --sites sites, as bench_load sends.

    .venv/bin/python -m bench.profile_request --requests 1000 --sites 200 \
        --database-url postgresql://postgres@127.0.0.1:5432/companion_bench_NAME
    .venv/bin/python -m bench.profile_request --requests 1000 --profile tottime

Redis is the in-process stand-in (fakeredis): commands are counted as a real Redis would receive
them (a pipeline is one trip). The database is emptied first (see profile_apply.fresh_database).
Trips and calls do not depend on the machine's load; seconds do.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
import uuid
from collections import Counter
from typing import Any

from redis.client import Pipeline, Redis

from bench.bench_load import requests_due
from bench.profile_apply import StatementCounter, fresh_database
from companion.app import create_app
from companion.core.db import database
from companion.core.settings import Settings
from companion.core.signing import sign
from companion.sites import create_site

REDIS_TRIPS: Counter[str] = Counter()


def _count_redis() -> None:
    command, execute = Redis.execute_command, Pipeline.execute

    def counted_command(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(self, Pipeline):
            REDIS_TRIPS[str(args[0])] += 1
        return command(self, *args, **kwargs)

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        REDIS_TRIPS["pipeline"] += 1
        return execute(self, *args, **kwargs)

    Redis.execute_command, Pipeline.execute = counted_command, counted_execute  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--profile", choices=["tottime", "cumulative"])
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='profile-request-')}/p.db"
    fresh_database(url)
    settings = Settings(database_url=url, secret_key="bench-secret-key-0123456789")
    app = create_app(settings)
    with database.connection_context():
        made = [create_site(f"S{n}", f"https://s{n}.example") for n in range(args.sites)]
    sites = [{"id": m.site.public_id, "secret": m.secret} for m in made]
    client = app.test_client()
    _count_redis()

    def post(site: dict[str, Any], batch: list[dict[str, Any]]) -> None:
        body = json.dumps({"events": batch}).encode()
        msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
        answer = client.post(
            f"/v1/sites/{site['id']}/events",
            data=body,
            headers={
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "Content-Type": "application/json",
                "webhook-signature": sign(site["secret"], msg_id, stamp, body),
            },
        )
        assert answer.status_code == 202, answer.text

    due = list(requests_due(sites, args.requests + 100))
    for site, batch in due[:100]:  # warm up: imports, pools, first statements
        post(site, batch)
    REDIS_TRIPS.clear()
    profiler = cProfile.Profile() if args.profile else None
    with StatementCounter() as counter:
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for site, batch in due[100:]:
            post(site, batch)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = args.requests
    print(f"database={url.split('://')[0]} requests={n} sites={args.sites}")
    print(f"per request: {cpu / n * 1000:.2f} ms CPU, {wall / n * 1000:.2f} ms wall")
    trips = sum(counter.counts.values())
    print(f"database trips per request: {trips / n:.2f}")
    for kind, count in counter.counts.most_common():
        print(f"  {count / n:6.2f}  {kind}")
    print(f"Redis trips per request: {sum(REDIS_TRIPS.values()) / n:.2f}")
    for kind, count in REDIS_TRIPS.most_common():
        print(f"  {count / n:6.2f}  {kind}")
    if profiler:
        pstats.Stats(profiler).sort_stats(args.profile).print_stats(args.top)


if __name__ == "__main__":
    main()
