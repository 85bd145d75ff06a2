"""The shared small world: a database of the engine under test, real Redis, a site and its token,
and a second site that must see nothing of the first.

The engine comes from COMPANION_TEST_DATABASE_URL (default: a SQLite file in a temp folder);
`make test` runs the database tests once per engine. Redis is real: COMPANION_TEST_REDIS_URL.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis

from companion.app import create_app
from companion.core import runtime
from companion.core.db import bind_database, database
from companion.core.settings import Settings
from companion.migrations import SchemaVersion, migrate_database
from companion.models import CORE_MODELS
from companion.sites import create_site
from tests.helpers import all_models, is_sqlite
from tests.prism import running_prism

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
        db.drop_tables([SchemaVersion, *all_models()], safe=True, cascade=not is_sqlite(db))
        migrate_database(db)
    yield db
    assert CORE_MODELS


@pytest.fixture
def redis_conn() -> Iterator[Any]:
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=TEST_REDIS_URL,
        secret_key="test-secret-key-0123456789",
        public_url="http://companion.test",
    )


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The environment a `companion` command reads, pointed at the test's database. On
    PostgreSQL and MariaDB the command refuses to start without a secret key, as in production."""
    monkeypatch.setenv("COMPANION_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COMPANION_SECRET_KEY", settings.secret_key)
    return settings


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


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SendGrid played by Prism for the whole session (email and flows tests share it)."""
    with running_prism(tmp_path_factory.mktemp("prism")) as url:
        yield url
