"""The one Peewee database, bound by the app factory or a command, never at import."""

from __future__ import annotations

import functools
import os
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from peewee import (
    Database,
    DatabaseProxy,
    MySQLDatabase,
    PostgresqlDatabase,
    SqliteDatabase,
    fn,
)
from playhouse.db_url import parse, schemes
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase

database = DatabaseProxy()
T = TypeVar("T")
MYSQL_FIELD_TYPES = {"TEXT": "LONGTEXT"}

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 30000,
    "foreign_keys": 1,
    "cache_size": -64000,
    # Reads through a memory map instead of a read() call per page: with a store larger than the
    # page cache, applying 1,000 orders read 50,000 pages, one call each (bench/profile_history.py,
    # docs/benchmarks.md). The map is the OS's page cache, shared by every connection; pages past
    # its size (or SQLite's compiled maximum) are read as before.
    "mmap_size": 2_000_000_000,
    # Temporary tables and statement journals in memory: a statement journal holds the pages a
    # multi-row statement changed until it ends, and in a file it was 4 of every 10 writes.
    "temp_store": "memory",
}


def engine_for(url: str) -> Database:
    """The Database for a COMPANION_DATABASE_URL (sqlite, postgresql or mysql/mariadb), parsed by
    playhouse.db_url; options in the URL's query win over the defaults below."""
    options = parse(url)
    if options.get("password"):
        options["password"] = unquote(options["password"])
    scheme = urlparse(url).scheme.split("+")[0]
    if scheme == "sqlite":
        defaults: dict[str, Any] = {
            "pragmas": SQLITE_PRAGMAS,
            "check_same_thread": False,
            "timeout": 30,
        }
        options["database"] = options.get("database") or ":memory:"
        _create_private(options["database"])
        engine: Any = schemes.get(scheme)
    elif scheme in ("postgres", "postgresql"):
        defaults = {"host": "127.0.0.1", **POOL}
        engine = PooledPostgresqlDatabase
    else:
        # READ COMMITTED as on PostgreSQL: a worker that waited for another's row lock then reads
        # what that worker committed, not its own older snapshot (MariaDB's default REPEATABLE
        # READ).
        # Text columns are LONGTEXT: MariaDB's TEXT holds 64 KB, and an INSERT IGNORE cut a big
        # order's stored payload there without a word (PostgreSQL and SQLite have no such ceiling).
        # Not pooled yet: MariaDB connects in a fraction of PostgreSQL's time, and pooling it is
        # untested.
        defaults = {
            "host": "127.0.0.1",
            "charset": "utf8mb4",
            "field_types": MYSQL_FIELD_TYPES,
            "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        }
        engine = schemes.get(scheme)
    if engine is None:
        raise ValueError(f"unsupported database URL scheme {scheme!r}")
    db = engine(**{**defaults, **options})
    if isinstance(db, PooledDatabase):
        if not _POOLS:
            os.register_at_fork(after_in_child=_forget_pools)
        _POOLS.add(db)
    return db


# On PostgreSQL a request or a job takes a connection from its process's pool and gives it back
# when it ends (`database.close()`) instead of opening one: PostgreSQL forks a backend per
# connection, which was about a fifth of an event batch's time in the web process (9 of 42 ms,
# docs/benchmarks.md "Steady load"). Connections older than 5 minutes are closed when given back;
# a thread waits up to 30 s for a free one.
POOL = {"max_connections": 32, "stale_timeout": 300, "timeout": 30}


_POOLS: weakref.WeakSet[PooledDatabase] = weakref.WeakSet()


def _forget_pools() -> None:
    """In a forked child (gunicorn's workers, `companion worker --fork`'s work horses): the
    connections belong to the parent, so the child opens its own instead of sharing their
    sockets."""
    for db in list(_POOLS):
        db._connections, db._in_use = [], {}  # peewee has no public "forget without closing"
        db._state.reset()


def _create_private(path: str) -> None:
    """A new SQLite file is readable by its owner only (0600): it holds signing secrets and customer
    data. SQLite gives its -wal and -shm files the same mode."""
    if path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # a missing folder or a race: SQLite reports the first on connect
        pass


def bind_database(url: str) -> Database:
    db = engine_for(url)
    database.initialize(db)
    return db


def is_mysql() -> bool:
    return isinstance(database.obj, MySQLDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def quote(name: str) -> str:
    """A table or column name quoted for the bound engine."""
    return f"`{name}`" if is_mysql() else f'"{name}"'


def param() -> str:
    """The bound engine's placeholder."""
    return "%s" if (is_mysql() or is_postgres()) else "?"


def unindexed(column: Any) -> Any:
    """The column wrapped so no engine uses an index on it for this term: where a batch names its
    rows by key, SQLite's planner otherwise prefers a range on a (site, date) or (site) index and
    walks the site's whole history (it has no statistics to know the key is more selective)."""
    return fn.COALESCE(column, None)


ROLLUP_LOCK_CLASS = 16_001  # the first key of PostgreSQL advisory locks taken for a site's roll-ups


def lock_site_rollups(site_id: int, exclusive: bool) -> None:
    """Inside a transaction on PostgreSQL: a rebuild of the site's roll-ups (exclusive) and the
    batches applied to it (shared) take turns, each before it locks any row. Otherwise a batch that
    locked a contact then waits for a roll-up row the rebuild rewrote, while the rebuild's insert
    waits for that contact (a deadlock). Released at commit. SQLite's write lock serialises them
    already."""
    if is_postgres():
        kind = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        database.execute_sql(f"SELECT {kind}(%s, %s)", (ROLLUP_LOCK_CLASS, site_id))


def write_transaction() -> Any:
    """A transaction that will write. On SQLite it takes the write lock up front (BEGIN IMMEDIATE):
    a deferred transaction that reads first and writes later fails with "database is locked"
    instead of waiting when another process wrote in between."""
    if isinstance(database.obj, SqliteDatabase):
        return database.atomic("IMMEDIATE")
    return database.atomic()


def is_deadlock(exc: BaseException) -> bool:
    """The engine chose this transaction as a deadlock's victim and rolled it back whole
    (PostgreSQL 40P01, MariaDB/MySQL 1213): running it again from the start is safe. The error is
    peewee's OperationalError, with the driver's own as its context (psycopg2's pgcode) or its
    first argument (PyMySQL's error number); on MariaDB a deadlock inside a savepoint surfaces as
    "SAVEPOINT ... does not exist" (InnoDB rolled back the whole transaction), with the deadlock
    as that error's context."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        for error in (seen, seen.args[0] if seen.args else None):
            if getattr(error, "pgcode", None) == "40P01":
                return True
            if isinstance(error, BaseException) and error.args and error.args[0] == 1213:
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_deadlocks(work: Callable[[], T], attempts: int = 4) -> T:
    """Run `work` (which opens its own transaction) again when it loses a deadlock. InnoDB's gap
    locks make some deadlocks between unrelated writers unavoidable by lock order alone, and its
    manual says to be ready to re-issue such a transaction. Never retried inside an outer
    transaction: that one was rolled back too and is its caller's to repeat."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts or not is_deadlock(exc) or database.in_transaction():
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")


def retries_deadlocks(func: Callable[..., T]) -> Callable[..., T]:
    """`retry_deadlocks` as a decorator, for a function that is safe to run again whole."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        return retry_deadlocks(lambda: func(*args, **kwargs))

    return run
