"""RQ workers: the production process, and the thread the embedded mode runs beside the web."""
from __future__ import annotations

import threading
from typing import Any

from rq import SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty

from companion import runtime

WORKER_TTL_S = 60  # heartbeat every ~45 s, so /healthz notices a dead worker within two minutes


class ThreadWorker(SimpleWorker):
    """Runs jobs in its own thread: no fork, no signal handlers, timer-based timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        return None


def production_worker(name: str | None = None) -> Worker:
    return Worker([runtime.queue()], connection=runtime.redis_connection(), worker_ttl=WORKER_TTL_S,
                  name=name)


def start_thread_worker() -> tuple[threading.Thread, ThreadWorker]:
    worker = ThreadWorker([runtime.queue()], connection=runtime.redis_connection(), worker_ttl=WORKER_TTL_S)
    thread = threading.Thread(target=_work, args=(worker,), name="companion-worker", daemon=True)
    thread.start()
    return thread, worker


def _work(worker: ThreadWorker) -> Any:
    return worker.work(with_scheduler=True, logging_level="WARNING")


def run_burst(connection: Any = None) -> bool:
    """Run every queued job in this thread until the queue is empty (tests, commands)."""
    connection = connection or runtime.redis_connection()
    worker = ThreadWorker([runtime.queue()], connection=connection)
    return worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
