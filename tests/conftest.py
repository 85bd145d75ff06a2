"""The shared small world: a database of the engine under test, real Redis, a site and its token,
and a second site that must see nothing of the first.

The engine comes from COMPANION_TEST_DATABASE_URL (default: a SQLite file in a temp folder);
`make test` runs the database tests once per engine. Redis is real: COMPANION_TEST_REDIS_URL.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from peewee import SqliteDatabase, sort_models
from redis import Redis

from companion.app import create_app
from companion.core import runtime
from companion.core.db import bind_database, database
from companion.core.settings import Settings
from companion.core.signing import sign
from companion.core.workers import run_burst
from companion.migrations import SchemaVersion, migrate_database
from companion.models import CORE_MODELS, BaseModel
from companion.sites import create_site

TEST_REDIS_URL = os.environ.get("COMPANION_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that touch the database get the `db` mark: `make test` reruns those per engine."""
    for item in items:
        if "db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: runs against the database engine under test")


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("COMPANION_TEST_DATABASE_URL")
    if url:
        return url
    folder = tempfile.mkdtemp(prefix="companion-test-")
    return f"sqlite:///{folder}/test.db"


@pytest.fixture(scope="session")
def _schema(database_url: str) -> Iterator[Any]:
    db = bind_database(database_url)
    with db.connection_context():
        db.drop_tables([SchemaVersion, *all_models()], safe=True, cascade=not _is_sqlite(db))
        migrate_database(db)
    yield db
    assert CORE_MODELS


def _is_sqlite(db: Any) -> bool:
    return isinstance(db, SqliteDatabase)


def all_models() -> list[Any]:
    """Every table, children first, so rows can be deleted in this order."""
    seen: list[Any] = []

    def walk(cls: Any) -> None:
        for sub in cls.__subclasses__():
            if sub._meta.table_name and sub not in seen and not sub._meta.__dict__.get("abstract"):
                seen.append(sub)
            walk(sub)
    walk(BaseModel)
    return list(reversed(sort_models([m for m in seen if m.__name__ != "SchemaVersion"])))


@pytest.fixture
def redis_conn() -> Iterator[Any]:
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=TEST_REDIS_URL, secret_key="test-secret-key-0123456789",
                    public_url="http://companion.test")


@pytest.fixture
def db(_schema: Any, settings: Settings, redis_conn: Any) -> Iterator[Any]:
    runtime.configure(settings)
    database.initialize(_schema)
    database.connect(reuse_if_open=True)
    for model in all_models():
        model.delete().execute()
    yield _schema
    if not database.is_closed():
        database.close()


@pytest.fixture
def app(db: Any, settings: Settings) -> Any:
    application = create_app(settings, migrate=False)
    application.config["TESTING"] = True
    database.initialize(db)
    return application


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def site(db: Any) -> Any:
    return create_site("Shop", "https://shop.example", timezone="Europe/Berlin", currency="EUR")


@pytest.fixture
def other_site(db: Any) -> Any:
    return create_site("Other", "https://other.example")


def signed_headers(secret: str, body: bytes, msg_id: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body), "Content-Type": "application/json"}


def post_events(client: Any, new_site: Any, events: list[dict[str, Any]], secret: str | None = None) -> Any:
    body = json.dumps({"events": events}).encode()
    return client.post(f"/v1/sites/{new_site.site.public_id}/events", data=body,
                       headers=signed_headers(secret or new_site.secret, body))


def run_jobs() -> None:
    run_burst()


def bearer(new_site: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_site.api_token}"}
