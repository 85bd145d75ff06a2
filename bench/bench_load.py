"""Steady load at a fixed request rate, as many stores' plugins send it: signed batches of 1 to 20
events of mixed kinds (views, carts, orders, refunds from bench/traffic.py), at --rate requests per
second for --seconds, open loop (a request is due at its time whether or not earlier ones answered,
and its latency counts from that time, so a stall shows in the figures instead of slowing the load).

    # production split as docs/configuration.md recommends it on 2 cores: gunicorn -w 1 -k gthread
    # --threads 8, 2 `companion worker --nice 10`, PostgreSQL (own database and Redis db)
    .venv/bin/python -m bench.bench_load --mode split --sites 200 --rate 200 --seconds 300 \
        --web 1 --worker-class gthread --threads 8 --worker-nice 10 \
        --database postgresql://postgres@127.0.0.1:5432/companion_test_NAME \
        --redis redis://127.0.0.1:6379/N
    # many stores: the same load spread over 200 sites in one database (an agency's service)
    .venv/bin/python -m bench.bench_load --mode split --sites 200 --rate 200 --seconds 300 ...
    # embedded: `companion run` on SQLite, in-process queue
    .venv/bin/python -m bench.bench_load --mode embedded --rate 50 --seconds 60

Every request is built and signed before the timed part; the default client is one asyncio thread
sending raw HTTP/1.1 (keep-alive, or --connection close), so it costs a fraction of a millisecond of
CPU a request. Prints the machine's load average before and after, answers by status, latency
p50/p95/p99/max, events sent, accepted and stored, the CPU of the client, the web, the workers, this
database's PostgreSQL backends and the rest of the machine during the load (and per answer), how
long the workers took to apply the backlog after the load stopped, the resident memory of the web
and worker processes when the load starts and when the backlog is applied (flat memory), and a
verdict: p99 < 200 ms, 0 errors, every accepted event stored and applied. The database given is
emptied first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from peewee import PostgresqlDatabase

from bench.bench_ingest import free_port, prepare, rss_mb
from bench.traffic import events as traffic
from companion.core.db import database
from companion.core.signing import sign
from companion.models import RawEvent
from companion.sites import create_site

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
SIZES = [1, 1, 1, 2, 2, 3, 5, 8, 13, 20]  # mean 5.6 events a batch: most deliveries are small
GIVE_UP_S = 30  # a request this late is not sent (and counted as an error), so a run ends on time
IDLE_S = 1.0  # the light client drops connections idle this long (gunicorn's keep-alive: 2 s)


def emptied(url: str) -> str:
    if url.startswith("postgresql://"):
        db = PostgresqlDatabase(url.rsplit("/", 1)[1], host="127.0.0.1", user="postgres")
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        db.close()
    return url


def start(
    mode: str, url: str, redis_url: str | None, port: int, folder: str, args: Any
) -> list[Any]:
    env = dict(
        os.environ,
        COMPANION_DATABASE_URL=url,
        COMPANION_SECRET_KEY="bench-secret-key-0123456789",
        COMPANION_LOG_LEVEL="WARNING",
    )
    env.pop("COMPANION_REDIS_URL", None)
    log = open(f"{folder}/processes.log", "wb")  # noqa: SIM115 (the processes write to it until the end)
    if mode == "embedded":
        procs = [
            subprocess.Popen(
                [str(VENV / "companion"), "run", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        ]
    else:
        assert redis_url, "--redis is needed for the production split"
        env["COMPANION_REDIS_URL"] = redis_url
        subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)
        procs = [
            subprocess.Popen(
                [
                    str(VENV / "gunicorn"),
                    *("-w", str(args.web), "-b", f"127.0.0.1:{port}", "--log-level", "warning"),
                    *("--worker-class", args.worker_class, "--threads", str(args.threads)),
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        ]
        procs += [
            subprocess.Popen(
                [str(VENV / "companion"), "worker", *worker_options(args)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
            for _ in range(args.workers)
        ]
    for _ in range(150):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return procs
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"the service did not start; see {folder}/processes.log")


def more_sites(count: int) -> list[dict[str, Any]]:
    """Sites after the first (`prepare` made it and bound the database)."""
    with database.connection_context():
        made = [
            create_site(f"Bench {n}", f"https://shop{n}.example", currency="USD")
            for n in range(1, count)
        ]
    return [{"id": m.site.public_id, "secret": m.secret, "pk": m.site.id} for m in made]


def requests_due(
    sites: list[dict[str, Any]], total_requests: int, seed: int = 16
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(site, batch) per request: each site has its own store's traffic; sites drawn at random."""
    rng = random.Random(seed)
    streams = [traffic(10**9, seed=seed + n) for n in range(len(sites))]
    for _ in range(total_requests):
        n = rng.randrange(len(sites))
        yield sites[n], [next(streams[n]) for _ in range(rng.choice(SIZES))]


def worker_options(args: Any) -> list[str]:
    """`companion worker`'s options for the run: --nice N lowers the workers' CPU priority."""
    return ["--nice", str(args.worker_nice)] if args.worker_nice else []


class Prepared:
    """Every request of the run, built before the timed part: bodies written, signed with the
    time each is due (the signature's clock is the plugin's send time; 5 minutes of tolerance
    cover a request sent up to GIVE_UP_S late) and, for the light client, whole HTTP requests as
    bytes. What the client does while the load runs is then sending and reading answers only."""

    def __init__(self, sites: list[dict[str, Any]], port: int, rate: float, seconds: float) -> None:
        total = int(rate * seconds)
        self.rate, self.port = rate, port
        built = time.perf_counter()
        plan = [
            (site, json.dumps({"events": batch}).encode(), len(batch))
            for site, batch in requests_due(sites, total)
        ]
        # the wall-clock time request 0 is due: after signing, which takes ~20 us a request
        self.wall_start = time.time() + 1.0 + total * 40e-6
        self.items: list[tuple[bytes, dict[str, str], bytes, int]] = []
        for n, (site, body, size) in enumerate(plan):
            msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(self.wall_start + n / rate)
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "Content-Type": "application/json",
                "webhook-signature": sign(site["secret"], msg_id, stamp, body),
            }
            path = f"/v1/sites/{site['id']}/events"
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            raw = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            self.items.append((path.encode(), headers, raw, size))
            del body
        self.body_bytes = sum(len(raw) for _, _, raw, _ in self.items)
        self.build_seconds = time.perf_counter() - built

    def start(self) -> float:
        """Wait until request 0 is due; its perf_counter time."""
        pause = self.wall_start - time.time()
        if pause > 0:
            time.sleep(pause)
        return time.perf_counter()


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.counts = {"sent": 0, "accepted": 0, "unsent": 0}
        self.retried = 0  # requests sent again on a new connection (the idle one was closed)
        self.lock = threading.Lock()

    def answered(self, at: float, status: str, size: int, accepted: int) -> None:
        with self.lock:
            self.latencies.append(time.perf_counter() - at)  # from when it was due
            self.statuses[status] += 1
            self.counts["sent"] += size
            self.counts["accepted"] += accepted

    def late(self, size: int) -> None:
        with self.lock:
            self.statuses["not sent (over 30 s late)"] += 1
            self.counts["unsent"] += size


def load(
    prepared: Prepared, client: str, senders: int, keep_alive: bool = True, on_start: Any = None
) -> dict[str, Any]:
    """Send the prepared requests at their times; what the client process spent doing it."""
    tally = Tally()
    started = prepared.start()
    cpu = time.process_time()
    if on_start:
        on_start()
    if client == "light":
        asyncio.run(_light_client(prepared, started, senders, tally, keep_alive))
    else:
        _threads_client(prepared, started, senders, tally)
    elapsed = time.perf_counter() - started
    tally.latencies.sort()
    return {
        "requests": len(prepared.items),
        "elapsed": elapsed,
        "statuses": dict(tally.statuses),
        "latencies": tally.latencies,
        "client_cpu": time.process_time() - cpu,
        "retried": tally.retried,
        **tally.counts,
    }


async def _light_client(
    prepared: Prepared, started: float, senders: int, tally: Tally, keep_alive: bool
) -> None:
    """One thread, asyncio, raw HTTP/1.1; at most `senders` requests in flight. keep_alive: reuse
    connections the server keeps open (as a proxy in front of gunicorn does upstream), else one
    connection per request (`Connection: close`, as each store's WordPress sends its deliveries)."""
    idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
    gate = asyncio.Semaphore(senders)
    close = b"" if keep_alive else b"Connection: close\r\n"

    async def exchange(raw: bytes) -> tuple[str, int]:
        if close:
            raw = raw.replace(b"\r\n", b"\r\n" + close, 1)
        for attempt in range(2):
            while idle and time.perf_counter() - idle[-1][0] > IDLE_S:
                idle.pop()[2].close()  # about to be closed by the server (its keep-alive timeout)
            reused = bool(idle) and attempt == 0
            reader, writer = idle.pop()[1:] if reused else await _connect(prepared.port)
            try:
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
                if reused:  # the server closed it meanwhile, before reading: send on a new one
                    tally.retried += 1
                    continue
                raise
            lines = head.decode("latin-1").split("\r\n")
            status = lines[0].split(" ", 2)[1]
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            answer = await reader.readexactly(int(fields.get("content-length", "0")))
            if close or fields.get("connection", "").lower() == "close":
                writer.close()
            else:
                idle.append((time.perf_counter(), reader, writer))
            try:
                accepted = json.loads(answer).get("accepted", 0)
            except ValueError:
                accepted = 0
            return status, accepted
        raise AssertionError("unreachable")

    async def send(at: float, raw: bytes, size: int) -> None:
        async with gate:
            if time.perf_counter() - at > GIVE_UP_S:
                tally.late(size)
                return
            try:
                status, accepted = await asyncio.wait_for(exchange(raw), 30)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, IndexError) as exc:
                status, accepted = type(exc).__name__, 0
            tally.answered(at, status, size, accepted)

    tasks = set()
    for n, (_, _, raw, size) in enumerate(prepared.items):
        at = started + n / prepared.rate
        pause = at - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        task = asyncio.create_task(send(at, raw, size))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    for _, _, writer in idle:
        writer.close()


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def _threads_client(prepared: Prepared, started: float, senders: int, tally: Tally) -> None:
    """The first client of this bench: `requests` in `senders` threads fed by a queue (kept to
    compare with; it spent ~2-3 ms of CPU a request, a third of a core or more at 200/s)."""
    due: queue.Queue[tuple[float, bytes, dict[str, str], bytes, int] | None] = queue.Queue()

    def sender() -> None:
        session = requests.Session()
        while (item := due.get()) is not None:
            at, path, headers, raw, size = item
            if time.perf_counter() - at > GIVE_UP_S:
                tally.late(size)
                continue
            body = raw[raw.index(b"\r\n\r\n") + 4 :]
            try:
                answer = session.post(
                    f"http://127.0.0.1:{prepared.port}{path.decode()}",
                    data=body,
                    headers=headers,
                    timeout=30,
                )
                status, accepted = str(answer.status_code), answer.json().get("accepted", 0)
            except (requests.RequestException, ValueError) as exc:
                status, accepted = type(exc).__name__, 0
            tally.answered(at, status, size, accepted)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for n, (path, headers, raw, size) in enumerate(prepared.items):
        at = started + n / prepared.rate
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due.put((at, path, headers, raw, size))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] * 1000


def stored() -> tuple[int, int, int]:
    """Events stored, waiting to be applied, and failed."""
    with database.connection_context():
        return (
            RawEvent.select().count(),
            RawEvent.select()
            .where(RawEvent.processed_at.is_null(), RawEvent.failed_at.is_null())
            .count(),
            RawEvent.select().where(RawEvent.failed_at.is_null(False)).count(),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["split", "embedded"], default="split")
    parser.add_argument("--database", help="default: a fresh SQLite file")
    parser.add_argument("--redis", help="Redis URL for the split (its db is flushed)")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--web", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", help="gunicorn's --worker-class")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn's --threads (gthread)")
    parser.add_argument("--workers", type=int, default=2, help="`companion worker` processes")
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="`companion worker --nice N` (0: not given)"
    )
    parser.add_argument(
        "--client",
        choices=["light", "threads"],
        default="light",
        help="light: asyncio, raw HTTP/1.1; threads: requests in --senders threads",
    )
    parser.add_argument(
        "--connection",
        choices=["keep-alive", "close"],
        default="keep-alive",
        help="light client: reuse connections, or one per request",
    )
    parser.add_argument("--senders", type=int, default=64, help="requests in flight at most")
    parser.add_argument("--drain", type=float, default=600, help="seconds to wait for the backlog")
    parser.add_argument("--sites", type=int, default=1, help="sites sharing the load")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-load-")
    url = emptied(args.database or f"sqlite:///{folder}/bench.db")
    sites = [prepare(url), *more_sites(args.sites)]
    port = free_port()
    procs = start(args.mode, url, args.redis, port, folder, args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run stops its processes too
    print(
        f"mode={args.mode} database={url.split('://')[0]} rate={args.rate}/s "
        f"seconds={args.seconds} web={args.web} ({args.worker_class}, {args.threads} threads) "
        f"workers={args.workers} (nice {args.worker_nice}) sites={args.sites} "
        f"client={args.client} ({args.connection})"
    )
    try:
        prepared = Prepared(sites, port, args.rate, args.seconds)
        print(
            f"{len(prepared.items)} requests built and signed in {prepared.build_seconds:.1f} s "
            f"({prepared.body_bytes / len(prepared.items) / 1024:.1f} KB each on average)"
        )
        print(f"load average before: {os.getloadavg()}", flush=True)
        memory = [f"at the start: {rss(procs)}"]
        cpu_before: dict[str, Any] = {}
        result = load(
            prepared,
            args.client,
            args.senders,
            keep_alive=args.connection == "keep-alive",
            on_start=lambda: cpu_before.update(cpu_snapshot(procs, url)),
        )
        cpu_after = cpu_snapshot(procs, url)
        print(f"load average at the end of the load: {os.getloadavg()}")
        memory.append(f"at the end of the load: {rss(procs)}")
        report(result)
        report_cpu(cpu_before, cpu_after, result)
        drained_at, waited = time.perf_counter(), 0.0
        count, left, failed = stored()
        print(
            f"events stored {count} of {result['accepted']} accepted (lost "
            f"{result['accepted'] - count}); {left} waiting to be applied",
            flush=True,
        )
        while left and waited < args.drain:
            time.sleep(5)
            count, left, failed = stored()
            waited = time.perf_counter() - drained_at
        drained = cpu_snapshot(procs, url)
        print(
            f"backlog applied {waited:.1f} s after the load stopped; still unapplied: {left}, "
            f"failed: {failed}; workers' CPU over load and drain: "
            f"{drained['workers'] - cpu_before['workers']:.1f} s"
        )
        memory.append(f"after the backlog: {rss(procs)}")
        print("resident memory (MB), " + "; ".join(memory))
        verdict(result, count, left, failed)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _cpu_seconds(pid: int, children: bool = True) -> float:
    """User + system CPU of a process (and of its live children), in seconds."""
    pids = [pid]
    if children:
        found = subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
        )
        pids += [int(p) for p in found.stdout.split()]
    ticks = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_backends(url: str) -> list[int]:
    if not url.startswith("postgresql://"):
        return []
    name = url.rsplit("/", 1)[1]
    query = f"select pid from pg_stat_activity where datname = '{name}' and pid <> pg_backend_pid()"
    found = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-Atc",
            query,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    return [int(p) for p in found.stdout.split()]


def cpu_snapshot(procs: list[Any], url: str) -> dict[str, Any]:
    """CPU seconds so far of the web, the workers, this database's PostgreSQL backends, the Redis
    server (shared with others) and the whole machine (busy, all cores)."""
    backends = _postgres_backends(url)
    redis = subprocess.run(
        ["pgrep", "-x", "redis-server"], capture_output=True, text=True, check=False
    )
    busy = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return {
        "at": time.perf_counter(),
        "web": _cpu_seconds(procs[0].pid),
        "workers": sum(_cpu_seconds(p.pid) for p in procs[1:]),
        "postgres": {pid: _cpu_seconds(pid, children=False) for pid in backends},
        "redis": sum(_cpu_seconds(int(p), children=False) for p in redis.stdout.split()),
        "machine": (sum(busy) - busy[3] - busy[4]) / os.sysconf("SC_CLK_TCK"),
    }


def report_cpu(before: dict[str, Any], after: dict[str, Any], result: dict[str, Any]) -> None:
    """Where the CPU went during the load, in cores (CPU seconds per second) and per answer."""
    span = after["at"] - before["at"]
    answered = max(1, len(result["latencies"]))
    postgres = sum(t - before["postgres"].get(pid, 0.0) for pid, t in after["postgres"].items())
    parts = {
        "client": result["client_cpu"],
        "web": after["web"] - before["web"],
        "workers": after["workers"] - before["workers"],
        "postgres (this database: web and workers)": postgres,
        "redis (shared)": after["redis"] - before["redis"],
    }
    machine = after["machine"] - before["machine"]
    others = (machine - sum(parts.values())) / span
    print(
        f"CPU over the {span:.1f} s of load, in cores: "
        + ", ".join(f"{k} {v / span:.2f}" for k, v in parts.items())
        + f"; whole machine {machine / span:.2f} (others {others:.2f})"
    )
    print(
        f"CPU per answered request: web {parts['web'] / answered * 1000:.2f} ms, client "
        f"{parts['client'] / answered * 1000:.2f} ms, postgres {postgres / answered * 1000:.2f} ms"
    )


def verdict(result: dict[str, Any], stored_count: int, left: int, failed: int) -> None:
    lat = result["latencies"] or [0.0]
    errors = sum(n for status, n in result["statuses"].items() if status != "202")
    p99 = percentile(lat, 0.99)
    lost = result["accepted"] - stored_count
    ok = errors == 0 and lost == 0 and left == 0 and failed == 0 and p99 < 200
    print(
        f"target (p99 < 200 ms, 0 errors, nothing lost, all applied): {'MET' if ok else 'NOT MET'}"
        f" (p99 {p99:.1f} ms, errors {errors}, lost {lost}, unapplied {left}, failed {failed})"
    )


def rss(procs: list[Any]) -> str:
    """Resident memory of the web (gunicorn and its workers) and of each worker process."""
    return ", ".join(
        f"{'web' if n == 0 else f'worker {n}'} {rss_mb(proc.pid)}" for n, proc in enumerate(procs)
    )


def report(result: dict[str, Any]) -> None:
    lat = result["latencies"] or [0.0]
    errors = sum(n for status, n in result["statuses"].items() if status != "202")
    print(
        f"requests {result['requests']} in {result['elapsed']:.1f} s "
        f"({result['requests'] / result['elapsed']:.1f}/s); answers {result['statuses']}; errors "
        f"{errors}; sent again on a new connection {result.get('retried', 0)}"
    )
    print(
        f"latency ms: p50 {percentile(lat, 0.50):.1f}  p95 {percentile(lat, 0.95):.1f}  "
        f"p99 {percentile(lat, 0.99):.1f}  max {lat[-1] * 1000:.1f}"
    )
    print(
        f"events sent {result['sent']}, accepted {result['accepted']}, not sent {result['unsent']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
