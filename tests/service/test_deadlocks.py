"""A transaction that loses a deadlock is run again from the start (PostgreSQL and MariaDB roll the
victim back whole); on SQLite the write lock taken up front means there is none to lose."""

from __future__ import annotations

import threading
from typing import Any

import peewee
import pymysql
import pytest

from companion import pipeline
from companion.core.db import database, retry_deadlocks, write_transaction
from companion.ingest import receive
from companion.models import Contact, DeadLetter, Order, RawEvent, utcnow
from tests import factories as f
from tests.helpers import is_sqlite, post_events, run_jobs


def _two_contacts(site_id: int) -> tuple[int, int]:
    now = utcnow()
    ids = [
        Contact.insert(
            site=site_id, email=f"lock{n}@example.com", created_at=now, updated_at=now
        ).execute()
        for n in (1, 2)
    ]
    return ids[0], ids[1]


def _barrier(db: Any) -> threading.Barrier:
    # On SQLite the second writer waits for the lock, so the first gives up waiting for it soon.
    return threading.Barrier(2, timeout=0.5 if is_sqlite(db) else 10)


def _lock_in_order(
    first: int,
    second: int,
    both_hold_one: threading.Barrier,
    attempts: list[str],
    name: str,
    savepoint: bool = False,
) -> None:
    """Lock `first`, wait until the other thread holds its first row too (first attempt only),
    then lock `second`: two such threads in opposite orders deadlock."""
    with write_transaction():
        attempts.append(name)
        Contact.update(first_name=name).where(Contact.id == first).execute()
        if attempts.count(name) == 1:
            try:
                both_hold_one.wait()
            except threading.BrokenBarrierError:
                pass  # SQLite: the other thread waits for the write lock, not at the barrier
        # in a savepoint as record_intents does: on MariaDB the deadlock then reads "SAVEPOINT ...
        # does not exist"
        if savepoint:
            with database.atomic():
                Contact.update(last_name=name).where(Contact.id == second).execute()
        else:
            Contact.update(last_name=name).where(Contact.id == second).execute()


@pytest.mark.parametrize("savepoint", [False, True], ids=["plain", "in-a-savepoint"])
def test_a_deadlock_victim_runs_again_and_both_writers_finish(
    db: Any, site: Any, savepoint: bool
) -> None:
    a, b = _two_contacts(site.site.id)
    barrier, attempts, errors = _barrier(db), [], []

    def writer(name: str, first: int, second: int) -> None:
        try:
            with database.connection_context():
                retry_deadlocks(
                    lambda: _lock_in_order(first, second, barrier, attempts, name, savepoint)
                )
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(repr(exc))

    threads = [
        threading.Thread(target=writer, args=("one", a, b)),
        threading.Thread(target=writer, args=("two", b, a)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    names = {
        c.id: (c.first_name, c.last_name) for c in Contact.select().where(Contact.id.in_((a, b)))
    }
    winner_of_a = names[a][0] if names[a][0] == names[b][1] else None
    assert winner_of_a is not None, names  # each row's two writes come from whole transactions
    if not is_sqlite(db):
        assert len(attempts) == 3, attempts  # one of the two really lost a deadlock and ran again


def test_a_deadlock_inside_a_callers_transaction_is_left_to_that_caller(db: Any, site: Any) -> None:
    a, b = _two_contacts(site.site.id)
    barrier, attempts, errors = _barrier(db), [], []

    def writer(name: str, first: int, second: int, outer: bool) -> None:
        try:
            with database.connection_context():
                if outer:
                    with database.atomic():
                        retry_deadlocks(
                            lambda: _lock_in_order(first, second, barrier, attempts, name)
                        )
                else:
                    retry_deadlocks(lambda: _lock_in_order(first, second, barrier, attempts, name))
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(f"{name}: {type(exc).__name__}")

    threads = [
        threading.Thread(target=writer, args=("one", a, b, True)),
        threading.Thread(target=writer, args=("two", b, a, True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if is_sqlite(db):
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].endswith("OperationalError"), errors
        assert len(attempts) == 2, attempts


def _deadlock() -> Exception:
    """What peewee raises when InnoDB picks a transaction as a deadlock's victim (the driver's error
    as its context, PyMySQL's error number first), as the races above produce for real."""
    try:
        raise pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
    except pymysql.err.OperationalError as driver_error:
        try:
            raise peewee.OperationalError(*driver_error.args) from driver_error
        except peewee.OperationalError as exc:
            return exc


def test_a_batch_that_loses_deadlocks_is_applied_on_a_later_try_and_makes_no_dead_letter(
    db: Any, site: Any, client: Any, monkeypatch: Any
) -> None:
    losses = [_deadlock(), _deadlock()]  # the batch and then its retry both lose
    real_apply = pipeline.apply_rows

    def apply_rows(*args: Any) -> Any:
        if losses:
            raise losses.pop()
        return real_apply(*args)

    monkeypatch.setattr(pipeline, "apply_rows", apply_rows)
    post_events(client, site, [f.order(1, email="once@example.com")])
    run_jobs()
    assert DeadLetter.select().count() == 0
    assert RawEvent.select().where(RawEvent.processed_at.is_null()).count() == 0
    assert Order.select().count() == 1


def test_events_that_keep_losing_deadlocks_wait_for_the_sweeper_and_are_never_dead_letters(
    db: Any, site: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pipeline, "apply_rows", lambda *args: (_ for _ in ()).throw(_deadlock()))
    stored = receive.store_batch(site.site, [f.order(2, email="twice@example.com")], utcnow())
    with pytest.raises(peewee.OperationalError):
        pipeline.process_events(stored.accepted_ids, utcnow())
    assert DeadLetter.select().count() == 0
    assert (
        RawEvent.select()
        .where(RawEvent.processed_at.is_null(), RawEvent.failed_at.is_null())
        .count()
        == 1
    )
