"""Every setting the service reads, from COMPANION_* environment variables, in one place.

Bad values fail at start with a message that names the variable. Secrets may also come from a
file named by the variable with a ``_FILE`` suffix (Docker and systemd credentials).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from playhouse.db_url import parse

DEFAULT_SENDGRID_HOST = "https://api.sendgrid.com"
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "mysql", "mariadb")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///companion.db"
    redis_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    sendgrid_api_key: str | None = None
    sendgrid_host: str = DEFAULT_SENDGRID_HOST
    sendgrid_webhook_public_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    public_url_set: bool = (
        False  # COMPANION_PUBLIC_URL given; else `companion run` uses its address
    )
    secret_key_from: str = "this process only"  # COMPANION_SECRET_KEY, or the file it is kept in
    max_body_bytes: int = 5 * 1024 * 1024
    max_batch_events: int = 500
    signature_tolerance_s: int = 300
    log_level: str = "INFO"

    @property
    def is_embedded_queue(self) -> bool:
        return not self.redis_url


def _read(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    file_name = env.get(f"{name}_FILE")
    if value is None and file_name:
        try:
            with open(file_name, encoding="utf-8") as fh:
                value = fh.read().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from exc
    if value is not None and value.strip() == "":
        return None
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = _read(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = _read(env, name)
    if raw is None:
        return None
    scheme = urlparse(raw).scheme.split("+")[0]
    if scheme not in schemes:
        raise ConfigError(f"{name} must start with one of {', '.join(schemes)}:// (got {raw!r})")
    return raw


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every COMPANION_* variable; raise ConfigError naming the bad one."""
    env = os.environ if env is None else env
    defaults = Settings()
    secret_key = _read(env, "COMPANION_SECRET_KEY")
    if secret_key is not None and len(secret_key) < 16:
        raise ConfigError("COMPANION_SECRET_KEY must be at least 16 characters")
    database_url = _url(env, "COMPANION_DATABASE_URL", DATABASE_SCHEMES) or defaults.database_url
    return Settings(
        database_url=database_url,
        redis_url=_url(env, "COMPANION_REDIS_URL", ("redis", "rediss", "unix")),
        secret_key=secret_key or _kept_secret_key(env, database_url),
        secret_key_from="COMPANION_SECRET_KEY"
        if secret_key
        else os.path.abspath(secret_key_path(env, database_url)),
        sendgrid_api_key=_read(env, "COMPANION_SENDGRID_API_KEY"),
        sendgrid_host=_url(env, "COMPANION_SENDGRID_HOST", ("http", "https"))
        or DEFAULT_SENDGRID_HOST,
        sendgrid_webhook_public_key=_read(env, "COMPANION_SENDGRID_WEBHOOK_PUBLIC_KEY"),
        public_url=(
            _url(env, "COMPANION_PUBLIC_URL", ("http", "https")) or defaults.public_url
        ).rstrip("/"),
        public_url_set=_read(env, "COMPANION_PUBLIC_URL") is not None,
        max_body_bytes=_int(env, "COMPANION_MAX_BODY_BYTES", defaults.max_body_bytes),
        max_batch_events=_int(env, "COMPANION_MAX_BATCH_EVENTS", defaults.max_batch_events),
        signature_tolerance_s=_int(
            env, "COMPANION_SIGNATURE_TOLERANCE", defaults.signature_tolerance_s
        ),
        log_level=(_read(env, "COMPANION_LOG_LEVEL") or "INFO").upper(),
    )


def secret_key_path(env: Mapping[str, str], database_url: str) -> str:
    """Where a generated key is kept: COMPANION_SECRET_KEY_PATH, else beside the SQLite file, so
    every command run against that database (from any folder) signs with the same key."""
    if env.get("COMPANION_SECRET_KEY_PATH"):
        return env["COMPANION_SECRET_KEY_PATH"]
    database = parse(database_url).get("database") or ""
    folder = os.path.dirname(database) if database not in ("", ":memory:") else ""
    return os.path.join(folder, ".companion-secret")


def _kept_secret_key(env: Mapping[str, str], database_url: str) -> str:
    """Without COMPANION_SECRET_KEY: on SQLite, one key kept beside the database file so links
    survive restarts; PostgreSQL and MariaDB serve several processes and machines, which must share
    one key, so there it has to be set."""
    if urlparse(database_url).scheme.split("+")[0] != "sqlite":
        raise ConfigError(
            "COMPANION_SECRET_KEY must be set with PostgreSQL or MariaDB: every web, worker "
            "and scheduler process must sign with the same key (generate one with "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    path = secret_key_path(env, database_url)
    try:
        with open(path, encoding="utf-8") as fh:
            key = fh.read().strip()
            if len(key) >= 16:
                return key
    except OSError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
    except OSError:
        pass
    return key
