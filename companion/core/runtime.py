"""What a running process was configured with: its settings and its queue connection.

Set once by the process's entry point (app factory, worker, scheduler, a command); jobs read it,
so they take only ids as arguments. Nothing here connects at import.
"""

from __future__ import annotations

import threading
from typing import Any

import fakeredis
from redis import Redis
from rq import Queue, Retry

from companion.core.settings import Settings

QUEUE_NAME = "companion"
SCHEDULER_HEARTBEAT_KEY = "companion:scheduler:heartbeat"
_state: dict[str, Any] = {}
_embedded_lock = threading.Lock()


def configure(settings: Settings) -> None:
    _state["settings"] = settings
    _state.pop("redis", None)
    _state.pop("queue", None)


def settings() -> Settings:
    if "settings" not in _state:
        raise RuntimeError(
            "companion.core.runtime.configure(settings) was not called in this process"
        )
    return _state["settings"]


def redis_connection() -> Redis:
    """Real Redis when COMPANION_REDIS_URL is set, else one in-process stand-in per process."""
    if "redis" not in _state:
        url = settings().redis_url
        if url:
            _state["redis"] = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        else:
            _state["redis"] = _embedded_redis()
    return _state["redis"]


def _embedded_redis() -> Redis:
    with _embedded_lock:
        server = _state.setdefault("fake_server", fakeredis.FakeServer())
    return fakeredis.FakeRedis(server=server)


def queue() -> Queue:
    """The process's queue, made once: a new Queue asked Redis for its version (INFO) on its
    first enqueue, one more trip for every delivery the web answered."""
    connection = redis_connection()
    made = _state.get("queue")
    if made is None or made.connection is not connection:
        made = _state["queue"] = Queue(QUEUE_NAME, connection=connection, default_timeout=600)
    return made


def enqueue(func: Any, *args: Any, **kwargs: Any) -> None:
    queue().enqueue(func, *args, retry=Retry(max=5, interval=[5, 30, 120, 600, 1800]), **kwargs)
