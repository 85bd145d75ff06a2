"""The service as an operator sees it: health, API description, schema migrations, commands."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from gunicorn.config import Config
from gunicorn.glogging import Logger

from companion.cli import main
from companion.core import health, runtime
from companion.core.db import database, engine_for, is_mysql, is_postgres
from companion.core.logs import redact_access_logs
from companion.core.settings import Settings
from companion.core.workers import ThreadWorker
from companion.dashboard.auth import login_link
from companion.migrations import SchemaVersion, migrate_database
from companion.models import CORE_MODELS, DeletedRefund, Site
from jobs import schedule


def test_healthz_is_503_and_names_the_missing_worker_and_scheduler(client):
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json["database"]["ok"] and answer.json["redis"]["ok"]
    assert answer.json["worker"] == {"ok": False, "count": 0, "last_heartbeat_age_s": None}
    assert answer.json["scheduler"]["ok"] is False


def test_healthz_is_200_when_a_worker_and_the_scheduler_beat(client):
    worker = ThreadWorker([runtime.queue()], connection=runtime.redis_connection())
    worker.register_birth()
    worker.heartbeat()
    lock = schedule.SchedulerLock(runtime.redis_connection())
    schedule.beat(lock, time.time())
    for name, _, func in schedule.SCHEDULE[:2]:
        schedule.enqueue_if_leading(lock, name, func)
    try:
        answer = client.get("/healthz")
        assert answer.status_code == 200, answer.json
        assert answer.json["worker"]["count"] == 1 and answer.json["queue_depth"] >= 2
    finally:
        worker.register_death()


def test_healthz_is_503_when_redis_is_down(client, settings, monkeypatch):
    runtime.configure(
        Settings(database_url=settings.database_url, redis_url="redis://127.0.0.1:1/0")
    )
    ok, report = health.check()
    assert not ok and report["redis"]["ok"] is False and report["queue_depth"] is None


def test_openapi_documents_every_route(client, app):
    spec = client.get("/openapi.json").json
    documented = {p.replace("{", "<").replace("}", ">") for p in spec["paths"]}
    routes = {
        r.rule.replace("<contact_key>", "<contact_id>").replace("<site_id:site_id>", "<site_id>")
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and r.rule != "/openapi.json"
    }
    assert routes <= documented, routes - documented
    assert "OrderData" in spec["components"]["schemas"]


def test_only_one_scheduler_holds_the_lock_and_a_second_takes_over_when_it_expires(
    redis_conn, settings
):
    runtime.configure(settings)
    first, second = schedule.SchedulerLock(redis_conn, "a"), schedule.SchedulerLock(redis_conn, "b")
    name, _, func = schedule.SCHEDULE[0]
    assert schedule.beat(first, time.time()) and schedule.enqueue_if_leading(first, name, func)
    assert not schedule.beat(second, time.time()) and not schedule.enqueue_if_leading(
        second, name, func
    )
    redis_conn.delete(schedule.LOCK_KEY)  # the first died: its lock expired
    assert schedule.beat(second, time.time()) and schedule.enqueue_if_leading(second, name, func)
    assert not schedule.beat(first, time.time()) and not schedule.enqueue_if_leading(
        first, name, func
    )


def test_every_schedule_row_is_an_interval_job_that_runs_once_at_start(redis_conn, settings):
    runtime.configure(settings)
    start = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    jobs = {
        job.id: job
        for job in schedule.build_scheduler(schedule.SchedulerLock(redis_conn), start).get_jobs()
    }
    assert jobs["beat"].trigger.interval.total_seconds() == schedule.TICK_S
    for name, every, func in schedule.SCHEDULE:
        assert jobs[name].trigger.interval.total_seconds() == every, name
        assert jobs[name].args[1:] == (name, func) and jobs[name].next_run_time > start


def test_migrations_from_an_empty_database_create_every_table_and_are_repeatable(db):
    tables = set(db.get_tables())
    assert {m._meta.table_name for m in CORE_MODELS} <= tables
    assert migrate_database(db) == []


def test_a_store_from_before_step_23_gains_the_order_session_index(db):
    """The sessions roll-up finds a session's orders by (site, session_key); an existing store
    gets the index from the migration, once, on every engine."""

    def has_index() -> bool:
        return "order_site_id_session_key" in {index.name for index in db.get_indexes("order")}

    assert has_index()
    db.execute_sql(
        "DROP INDEX order_site_id_session_key"
        + (" ON `order`" if "MySQL" in type(db).__name__ else "")
    )
    SchemaVersion.delete().where(SchemaVersion.version == 23).execute()
    assert not has_index()
    assert migrate_database(db) == ["23: orders: index by session for the sessions roll-up"]
    assert has_index() and migrate_database(db) == []


def test_step_38_drops_the_site_indexes_composites_lead_and_keeps_those(db):
    """order, order_item and visit have no single-column (site_id) index (every row written paid
    for it; a composite led by site_id serves the site's rows and MariaDB's foreign key); a store
    from before step 38 loses them, once, on every engine."""
    mysql = "MySQL" in type(db).__name__

    def site_only(table: str) -> list[str]:
        return [i.name for i in db.get_indexes(table) if i.columns == ["site_id"]]

    def led_by_site(table: str) -> list[str]:
        return [i.name for i in db.get_indexes(table) if i.columns[0] == "site_id"]

    tables = ("order", "order_item", "visit")
    assert all(not site_only(t) and led_by_site(t) for t in tables)
    for table in tables:
        quoted = f"`{table}`" if mysql else f'"{table}"'
        db.execute_sql(f"CREATE INDEX {table}_site_id ON {quoted} (site_id)")
    SchemaVersion.delete().where(SchemaVersion.version == 38).execute()
    assert all(site_only(t) for t in tables)
    assert migrate_database(db) == [
        "38: orders, items, visits: drop the (site) indexes that composite indexes already lead"
    ]
    assert all(not site_only(t) and led_by_site(t) for t in tables)
    assert migrate_database(db) == []


def test_sites_add_prints_id_secret_and_token_as_json(db, cli_env):
    result = CliRunner().invoke(
        main, ["sites", "add", "--name", "Shop", "--url", "https://shop.example", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (
        data["secret"].startswith("whsec_") and data["api_token"].startswith("sc_") and data["id"]
    )
    listing = CliRunner().invoke(main, ["sites", "list"])
    assert data["id"] in listing.output and "https://shop.example" in listing.output


def test_sites_add_refuses_an_unknown_time_zone(db, cli_env):
    result = CliRunner().invoke(
        main,
        ["sites", "add", "--name", "S", "--url", "https://s.example", "--timezone", "Mars/Base"],
    )
    assert result.exit_code != 0 and "unknown IANA time zone" in result.output


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "shop.example", "ftp://s.e"]
)
def test_sites_add_refuses_a_store_address_that_is_not_http(db, cli_env, url):
    """The store's address goes into every mail's links (footer, restore and reorder fallbacks):
    only http(s) with a host (issue 16, defect 5)."""
    result = CliRunner().invoke(main, ["sites", "add", "--name", "S", "--url", url])
    assert result.exit_code != 0 and "--url" in result.output, result.output
    assert Site.select().count() == 0


def test_a_bad_setting_fails_with_the_variables_name(monkeypatch):
    monkeypatch.setenv("COMPANION_DATABASE_URL", "oracle://x")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code != 0 and "COMPANION_DATABASE_URL" in result.output


def test_database_urls_are_read_with_their_options_and_a_percent_encoded_password():
    sqlite = engine_for("sqlite:////tmp/somewhere/companion.db")
    assert (
        sqlite.database == "/tmp/somewhere/companion.db"
        and dict(sqlite._pragmas)["journal_mode"] == "wal"
    )
    postgres = engine_for(
        "postgresql://shop:p%40ss%2Fword@db.internal:6432/companion?sslmode=require"
    )
    assert (
        postgres.database,
        postgres.connect_params["password"],
        postgres.connect_params["port"],
        postgres.connect_params["sslmode"],
    ) == ("companion", "p@ss/word", 6432, "require")
    maria = engine_for("mysql://root@127.0.0.1/companion?charset=utf8")
    assert maria.connect_params["charset"] == "utf8"  # the URL's option wins over the default
    assert "READ COMMITTED" in maria.connect_params["init_command"]


def test_on_postgresql_each_request_takes_a_pooled_connection_instead_of_opening_one(db):
    """As the app does per request (connect, then close at teardown): PostgreSQL forks a backend
    per connection, which cost a fifth of an event batch's time when every request opened one."""
    if not is_postgres():
        pytest.skip("only PostgreSQL's connections are pooled")
    backends = set()
    for _ in range(3):
        database.connect(reuse_if_open=True)
        backends.add(database.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
        database.close()
    assert len(backends) == 1


def test_a_scheduler_whose_lock_was_taken_over_neither_renews_nor_releases_the_new_holders_lock(
    redis_conn,
):
    first, second = schedule.SchedulerLock(redis_conn, "a"), schedule.SchedulerLock(redis_conn, "b")
    assert first.acquire_or_renew()
    redis_conn.delete(schedule.LOCK_KEY)  # the first stalled past the lock's expiry
    assert second.acquire_or_renew()
    redis_conn.pexpire(schedule.LOCK_KEY, 5_000)
    assert not first.acquire_or_renew()
    first.release()
    assert redis_conn.get(schedule.LOCK_KEY) == b"b" and redis_conn.pttl(schedule.LOCK_KEY) <= 5_000


def test_a_new_sqlite_database_and_its_wal_are_readable_by_their_owner_only(tmp_path):
    db = engine_for(f"sqlite:///{tmp_path}/companion.db")
    with db.connection_context():
        db.execute_sql("CREATE TABLE t (x INTEGER)")
        db.execute_sql("INSERT INTO t VALUES (1)")
        modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()}
    assert modes["companion.db"] == "0o600" and modes.get("companion.db-wal", "0o600") == "0o600", (
        modes
    )


def test_the_unsubscribe_page_runs_no_script_and_cannot_be_framed(client):
    answer = client.get("/u/not-a-token")
    assert answer.status_code == 404
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert (
        answer.headers["X-Frame-Options"] == "DENY"
        and answer.headers["Referrer-Policy"] == "no-referrer"
    )


def test_tokens_in_sign_in_unsubscribe_and_tracking_paths_never_reach_the_access_log(
    app, client, site, caplog
):
    link = login_link(site.site, "http://companion.test").removeprefix("http://companion.test")
    token = link.rsplit("/", 1)[1]
    logger = logging.getLogger("werkzeug")
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        for path in (link, "/u/secret-unsubscribe-token", "/t/c/secret-click-token?x=1"):
            logger.info(
                '%s - - [%s] "%s" %s -',
                "127.0.0.1",
                "04/Dec/2026 04:00:00",
                f"GET {path} HTTP/1.1",
                302,
            )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert (
        token not in logged
        and "secret-unsubscribe-token" not in logged
        and "secret-click-token" not in logged
    )
    assert logged.count("[redacted]") == 3


def test_a_mariadb_store_from_before_step_30_gets_longtext_and_keeps_a_wholesale_payload(db):
    """MariaDB's TEXT stops at 64 KB and INSERT IGNORE cut a big order's stored payload there; new
    databases create LONGTEXT and the migration widens an existing one (other engines: nothing)."""
    mysql = "MySQL" in type(db).__name__

    def payload_type() -> str:
        if not mysql:
            return "unbounded"
        return db.execute_sql(
            "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = 'raw_event' AND COLUMN_NAME = 'payload'"
        ).fetchone()[0]

    assert payload_type() in ("longtext", "unbounded")
    if mysql:
        db.execute_sql("ALTER TABLE raw_event MODIFY payload TEXT NOT NULL")
        assert payload_type() == "text"
    SchemaVersion.delete().where(SchemaVersion.version == 30).execute()
    assert migrate_database(db) == ["30: MariaDB: text columns are LONGTEXT (TEXT stops at 64 KB)"]
    assert payload_type() in ("longtext", "unbounded") and migrate_database(db) == []


def test_a_store_from_before_step_32_gains_the_message_variant_column(db):
    """Subject A/B tests record each message's variant; an existing store gets the column from the
    migration, once, on every engine."""

    def has_column() -> bool:
        return "variant" in {column.name for column in db.get_columns("message")}

    assert has_column()
    db.execute_sql("ALTER TABLE message DROP COLUMN variant")
    SchemaVersion.delete().where(SchemaVersion.version == 32).execute()
    assert not has_column()
    assert migrate_database(db) == [
        "32: flows: the subject variant of each message (A/B tests per step)"
    ]
    assert has_column() and migrate_database(db) == []


def test_a_store_from_before_step_35_gains_the_session_generations(db):
    """Signing out everywhere counts a site's session generations; an existing store gets both
    columns from the migration, once, on every engine."""

    def columns() -> set[str]:
        return {c.name for c in db.get_columns("site")} | {
            c.name for c in db.get_columns("dashboard_session")
        }

    assert {"session_generation", "generation"} <= columns()
    db.execute_sql("ALTER TABLE site DROP COLUMN session_generation")
    db.execute_sql("ALTER TABLE dashboard_session DROP COLUMN generation")
    SchemaVersion.delete().where(SchemaVersion.version == 35).execute()
    assert not {"session_generation", "generation"} & columns()
    assert migrate_database(db) == ["35: dashboard: session generations for signing out everywhere"]
    assert {"session_generation", "generation"} <= columns() and migrate_database(db) == []


def test_a_store_from_before_step_33_gains_the_attribution_message_index(db):
    """A subject A/B report goes from a flow's messages to the orders they earned by message
    uuid; an existing store gets that index from the migration, once, on every engine."""

    def has_index() -> bool:
        names = {index.name for index in db.get_indexes("order_attribution")}
        return "order_attribution_message_uuid" in names

    assert has_index()
    if is_mysql():
        db.execute_sql("DROP INDEX order_attribution_message_uuid ON order_attribution")
    else:
        db.execute_sql("DROP INDEX order_attribution_message_uuid")
    SchemaVersion.delete().where(SchemaVersion.version == 33).execute()
    assert not has_index()
    assert migrate_database(db) == ["33: flows: orders found by the message they are credited to"]
    assert has_index() and migrate_database(db) == []


def test_gunicorns_own_access_log_line_carries_no_token(tmp_path):
    """The production split logs through gunicorn's Logger (gunicorn/glogging.py `access`,
    `atoms`: the request line, the path and the referrer), not werkzeug's: its lines are redacted
    too once the app is loaded (create_app installs the filter)."""
    redact_access_logs()
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s "%(f)s"')
    logger = Logger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/u/secret-unsubscribe-token?x=1",
        "PATH_INFO": "/u/secret-unsubscribe-token",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "https://mail.example/dashboard/login/secret-link-token",
    }
    response = type("Response", (), {"status": "200 OK", "sent": 10, "headers": []})()
    logger.access(response, type("Request", (), {"headers": []})(), environ, timedelta(0))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = (tmp_path / "access.log").read_text()
    assert "secret" not in line and line.count("[redacted]") == 3, line


def test_a_store_from_before_step_37_gains_the_deleted_refund_tombstones(db):
    """Deleted refunds (issue 17) leave a tombstone; an existing store gets the table from the
    migration, once, on every engine."""
    db.drop_tables([DeletedRefund])
    SchemaVersion.delete().where(SchemaVersion.version == 37).execute()
    assert not db.table_exists("deleted_refund")
    assert migrate_database(db) == ["37: orders: tombstones of refunds the store deleted"]
    assert db.table_exists("deleted_refund") and migrate_database(db) == []
