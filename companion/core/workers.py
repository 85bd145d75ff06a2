"""RQ workers: the production process, and the thread the embedded mode runs beside the web."""

from __future__ import annotations

import threading
from typing import Any

from rq import SimpleWorker, Worker
from rq.job import Job
from rq.timeouts import TimerDeathPenalty
from rq.utils import current_timestamp

from companion.core import runtime

WORKER_TTL_S = 60  # heartbeat every ~45 s, so /healthz notices a dead worker within two minutes


class ThreadWorker(SimpleWorker):
    """Runs jobs in its own thread: no fork, no signal handlers, timer-based timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        return None


def production_worker(name: str | None = None, fork: bool = False) -> Worker:
    """Jobs run in the worker process by default: they are our own, re-read their state and catch
    their errors, and forking a work horse per job cost more than a third of ingest throughput.
    `companion worker --fork` isolates each job in a child process instead."""
    kind = Worker if fork else SimpleWorker
    return kind(
        [runtime.queue()], connection=runtime.redis_connection(), worker_ttl=WORKER_TTL_S, name=name
    )


def start_thread_worker() -> tuple[threading.Thread, ThreadWorker]:
    worker = ThreadWorker(
        [runtime.queue()], connection=runtime.redis_connection(), worker_ttl=WORKER_TTL_S
    )
    thread = threading.Thread(target=_work, args=(worker,), name="companion-worker", daemon=True)
    thread.start()
    return thread, worker


def _work(worker: ThreadWorker) -> Any:
    # No RQ scheduler process here: it would be a forked child that outlives a killed server.
    # The embedded scheduler thread moves due retries back to the queue (enqueue_due_retries).
    return worker.work(with_scheduler=False, logging_level="WARNING")


def enqueue_due_retries() -> int:
    """Put jobs whose retry time has come back on the queue (what RQ's scheduler process does)."""
    queue = runtime.queue()
    registry = queue.scheduled_job_registry
    job_ids = registry.get_jobs_to_schedule(current_timestamp())
    if not job_ids:
        return 0
    with queue.connection.pipeline() as pipeline:
        for job in Job.fetch_many(job_ids, connection=queue.connection):
            if job is not None:
                queue._enqueue_job(job, pipeline=pipeline)
        for job_id in job_ids:
            registry.remove(job_id, pipeline=pipeline)
        pipeline.execute()
    return len(job_ids)


def run_burst(connection: Any = None) -> bool:
    """Run every queued job in this thread until the queue is empty (tests, commands)."""
    connection = connection or runtime.redis_connection()
    worker = ThreadWorker([runtime.queue()], connection=connection)
    return worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
