"""`companion doctor`: check every moving part and say in words what to fix.

Each check returns a Finding (ok, a warning, or a problem) with what was seen and, when it is
not ok, what to do. SendGrid is only *read* here (is the key valid, is a sender verified);
sending stays in companion/email/sendgrid.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import click
import requests
from peewee import PeeweeException
from redis.exceptions import RedisError

from companion.cli.context import open_database
from companion.core import health, runtime
from companion.core.db import database
from companion.core.settings import Settings
from companion.flows.config import site_config
from companion.migrations import pending_steps
from companion.models import Site

OK, WARN, FAIL = "ok", "warning", "problem"
TIMEOUT_S = 5


@dataclass(frozen=True)
class Finding:
    name: str
    status: str
    seen: str
    fix: str = ""


def check_configuration(settings: Settings) -> Finding:
    """Bad values already stopped the command (load_settings names the variable); this says what is
    in use."""
    mode = (
        "embedded (one process)"
        if settings.is_embedded_queue
        else "Redis queue with separate workers"
    )
    public = (
        f"public URL {settings.public_url}"
        if settings.public_url_set
        else "public URL not set (COMPANION_PUBLIC_URL): `companion run` uses the address it "
        "serves, other "
        f"commands assume {settings.public_url}"
    )
    return Finding(
        "Configuration",
        OK,
        f"Settings read: database {_redact(settings.database_url)}, {mode}, "
        f"{public}; signing key from {settings.secret_key_from}.",
    )


def check_database() -> Finding:
    try:
        database.execute_sql("SELECT 1")
        pending = pending_steps(database.obj)
    except PeeweeException as exc:  # every driver error arrives as one of these; it is the finding
        return Finding(
            "Database",
            FAIL,
            f"Cannot use the database: {exc}"[:300],
            "Check COMPANION_DATABASE_URL (host, port, user, password, database name) and that the "
            "server runs.",
        )
    if pending:
        return Finding(
            "Database",
            WARN,
            f"{len(pending)} schema step(s) not applied yet.",
            "Run `companion migrate`.",
        )
    return Finding("Database", OK, "Reachable, schema up to date.")


def check_redis(settings: Settings) -> Finding:
    if settings.is_embedded_queue:
        return Finding(
            "Redis",
            OK,
            "Not configured: embedded mode (`companion run` keeps its queue in memory).",
            "",
        )
    try:
        runtime.redis_connection().ping()
    except (RedisError, OSError) as exc:
        return Finding(
            "Redis",
            FAIL,
            f"Cannot reach {_redact(settings.redis_url or '')}: {exc}"[:300],
            "Start Redis or fix COMPANION_REDIS_URL; without it nothing is processed or sent.",
        )
    return Finding("Redis", OK, "Reachable.")


def check_processes(settings: Settings) -> list[Finding]:
    if settings.is_embedded_queue:
        return [
            Finding(
                "Worker and scheduler",
                OK,
                "Embedded mode: `companion run` runs both in its own process.",
            )
        ]
    try:
        workers, scheduler = health._workers(), health._scheduler()
    except (RedisError, OSError) as exc:
        return [
            Finding(
                "Worker and scheduler",
                FAIL,
                f"Cannot read heartbeats: {exc}"[:300],
                "Fix Redis first.",
            )
        ]
    found = [
        Finding("Worker", OK, f"{workers['count']} worker(s) alive.")
        if workers["ok"]
        else Finding(
            "Worker",
            FAIL,
            "No worker heartbeat in the last two minutes.",
            "Start at least one `companion worker`; events wait unprocessed and no email goes out "
            "until then.",
        )
    ]
    found.append(
        Finding("Scheduler", OK, "Heartbeat is fresh.")
        if scheduler["ok"]
        else Finding(
            "Scheduler",
            FAIL,
            "No scheduler heartbeat in the last two minutes.",
            "Start exactly one `companion scheduler` (a second one waits as a standby).",
        )
    )
    return found


def check_public_url(settings: Settings, get: Callable[..., Any] = requests.get) -> Finding:
    url = settings.public_url
    host = urlparse(url).hostname or ""
    local = host in ("127.0.0.1", "localhost", "::1")
    try:
        answer = get(f"{url}/healthz", timeout=TIMEOUT_S)
        reached = answer.status_code in (200, 503)
    except requests.RequestException as exc:
        reached, answer = False, exc
    if not reached:
        return Finding(
            "Public URL",
            FAIL if not local else WARN,
            f"{url}/healthz did not answer ({answer}).",
            "Set COMPANION_PUBLIC_URL to the address the plugin and email readers use, and make "
            "sure "
            "it reaches this service.",
        )
    if local:
        return Finding(
            "Public URL",
            WARN,
            f"{url} answers, but only on this machine.",
            "Email links and the plugin need a public https address: set COMPANION_PUBLIC_URL.",
        )
    if not url.startswith("https://"):
        return Finding(
            "Public URL",
            WARN,
            f"{url} answers over plain http.",
            "Serve it over https behind a proxy.",
        )
    return Finding("Public URL", OK, f"{url} answers.")


def check_sendgrid(
    settings: Settings, senders: list[str], get: Callable[..., Any] = requests.get
) -> list[Finding]:
    if not settings.sendgrid_api_key:
        return [
            Finding(
                "SendGrid",
                WARN,
                "No COMPANION_SENDGRID_API_KEY: outbox mode, emails are rendered and kept, not "
                "sent.",
                "Create an API key with Mail Send access in SendGrid and set "
                "COMPANION_SENDGRID_API_KEY.",
            )
        ]
    headers = {"Authorization": f"Bearer {settings.sendgrid_api_key}"}
    base = settings.sendgrid_host.rstrip("/")
    try:
        scopes = get(f"{base}/v3/scopes", headers=headers, timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        return [
            Finding(
                "SendGrid key",
                FAIL,
                f"SendGrid did not answer: {exc}"[:300],
                "Check the network and COMPANION_SENDGRID_HOST.",
            )
        ]
    if scopes.status_code in (401, 403):
        return [
            Finding(
                "SendGrid key",
                FAIL,
                "SendGrid rejected the API key.",
                "Create a new key (Settings › API Keys, Mail Send access) and set "
                "COMPANION_SENDGRID_API_KEY.",
            )
        ]
    granted = set((scopes.json() or {}).get("scopes") or [])
    key = (
        Finding("SendGrid key", OK, "The API key is valid and may send mail.")
        if "mail.send" in granted or not granted
        else Finding(
            "SendGrid key",
            FAIL,
            "The API key lacks the mail.send scope.",
            "Give the key Mail Send access.",
        )
    )
    return [key, _sender_finding(get, base, headers, senders)]


def _sender_finding(
    get: Callable[..., Any], base: str, headers: dict[str, str], senders: list[str]
) -> Finding:
    try:
        verified = {
            s["from_email"].lower()
            for s in (
                get(f"{base}/v3/verified_senders", headers=headers, timeout=TIMEOUT_S).json() or {}
            ).get("results", [])
            if s.get("verified") and s.get("from_email")
        }
        domains = {
            d["domain"].lower()
            for d in (
                get(f"{base}/v3/whitelabel/domains", headers=headers, timeout=TIMEOUT_S).json()
                or []
            )
            if d.get("valid") and d.get("domain")
        }
    except (requests.RequestException, ValueError, TypeError, KeyError) as exc:
        return Finding(
            "SendGrid sender",
            WARN,
            f"Could not list verified senders: {exc}"[:300],
            "Check in SendGrid › Settings › Sender Authentication.",
        )
    missing = [
        s for s in senders if s.lower() not in verified and s.split("@")[-1].lower() not in domains
    ]
    if missing:
        return Finding(
            "SendGrid sender",
            FAIL,
            f"Not verified in SendGrid: {', '.join(missing)}.",
            "Verify these senders (Single Sender Verification) or authenticate their domain "
            "(Settings › Sender Authentication); SendGrid refuses mail from them until then.",
        )
    return Finding(
        "SendGrid sender", OK, f"Verified: {', '.join(senders) or 'no sender configured yet'}."
    )


def site_senders() -> list[str]:
    return sorted({site_config(site)["from_email"] for site in Site.select()})


def run_checks(settings: Settings) -> list[Finding]:
    findings = [check_configuration(settings), check_database(), check_redis(settings)]
    findings += check_processes(settings) if findings[-1].status == OK else []
    findings.append(check_public_url(settings))
    senders = site_senders() if findings[1].status != FAIL else []
    findings += check_sendgrid(settings, senders)
    return findings


def _redact(url: str) -> str:
    parsed = urlparse(url)
    return url.replace(f":{parsed.password}@", ":***@") if parsed.password else url


# --- the command ------------------------------------------------------------------------------

MARKS = {"ok": ("✔", "green"), "warning": ("!", "yellow"), "problem": ("✘", "red")}


@click.command(
    help="Check configuration, database, Redis, SendGrid (key, verified sender), the public URL "
    "and "
    "the worker and scheduler heartbeats; say what to fix. Exits 1 when something is broken.\n\n"
    "Example:\n\n  COMPANION_DATABASE_URL=postgresql://... companion doctor"
)
def doctor() -> None:
    settings = open_database(migrate=False)
    findings = run_checks(settings)
    for finding in findings:
        mark, colour = MARKS[finding.status]
        click.echo(f"{click.style(mark, fg=colour)} {finding.name}: {finding.seen}")
        if finding.fix:
            click.echo(f"    → {finding.fix}")
    problems = sum(1 for f in findings if f.status == "problem")
    warnings = sum(1 for f in findings if f.status == "warning")
    click.echo(f"\n{problems} problem(s), {warnings} warning(s).")
    if problems:
        raise SystemExit(1)
