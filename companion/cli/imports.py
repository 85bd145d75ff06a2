"""`companion import woocommerce`: a shop's history through WooCommerce's REST API v3."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import click

from companion.cli.context import open_database
from companion.core import heap
from companion.sites import find_site
from companion.woocommerce.import_run import import_woocommerce
from companion.woocommerce.importer import WooImportError

RESUME_HINT = "Everything imported so far is saved: run the same command again to resume."


@click.group(
    "import",
    help="Import history from a store.\n\nExample:\n\n"
    "  companion import woocommerce --site ID --url https://shop.example "
    "--key ck_... --secret cs_...",
)
def import_group() -> None:
    pass


@import_group.command(
    "woocommerce",
    help=(
        "Orders (with refunds), products and customers through WooCommerce's REST API v3, 100 per "
        "page. "
        "Resumable: after Ctrl-C or a failure, run the same command again. Idempotent: a second "
        "run "
        "changes nothing. Create the key in WooCommerce > Settings > Advanced > REST API (Read)."
    ),
)
@click.option(
    "--site", "site_id", required=True, help="The site to import into (companion sites list)."
)
@click.option("--url", required=True, help="The shop's home URL, e.g. https://shop.example")
@click.option("--key", required=True, help="REST API consumer key, ck_...")
@click.option("--secret", required=True, help="REST API consumer secret, cs_...")
@click.option(
    "--since",
    help="Only what changed since DATE: 2024-05-01 (midnight in the site's time zone) "
    "or an ISO 8601 time with offset.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (for logs and cron).")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    help="CA certificates to trust, for a shop with a private CA.",
)
@click.option(
    "--query-string-auth",
    is_flag=True,
    help="Send the key in the query string, for HTTPS servers that drop the Authorization header.",
)
def woocommerce(
    site_id: str,
    url: str,
    key: str,
    secret: str,
    since: str | None,
    no_progress: bool,
    ca_bundle: str | None,
    query_string_auth: bool,
) -> None:
    open_database()
    site = find_site(site_id)
    if site is None:
        raise click.ClickException(f"No site {site_id!r}; see `companion sites list`.")
    heap.settle()  # a long run of mapping and validating: the collector skips what start-up loaded
    outcome = _run(
        site,
        _checked_url(url),
        key,
        secret,
        since=parse_since(since, site.timezone),
        progress=not no_progress,
        verify=ca_bundle or True,
        query_string_auth=query_string_auth,
    )
    click.echo(report(outcome, url))


def _run(site: Any, url: str, key: str, secret: str, **options: Any) -> Any:
    try:
        return import_woocommerce(site, url, key, secret, **options)
    except WooImportError as exc:
        raise click.ClickException(_with_hint(str(exc))) from None
    except KeyboardInterrupt:
        click.echo(f"\nInterrupted. {RESUME_HINT}", err=True)
        raise SystemExit(130) from None


def parse_since(value: str | None, timezone: str) -> datetime | None:
    """A date is midnight in the site's time zone; a time without offset is taken in that zone
    too."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            "expected a date such as 2024-05-01 or an ISO 8601 time such as "
            "2024-05-01T12:00:00+02:00",
            param_hint="--since",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(timezone))


def report(outcome: Any, url: str) -> str:
    """What was imported and where it went, in a few lines."""
    imported = ", ".join(f"{n:,} {resource}" for resource, n in outcome.summary.imported.items())
    totals = outcome.totals
    lines = [
        f"Imported {imported} from {url}.",
        (
            f"{totals.accepted:,} new events stored, {totals.duplicates:,} already there, "
            f"{totals.rejected:,} rejected (kept as dead letters)."
        ),
    ]
    lines.append(
        "Profiles and metrics are up to date."
        if outcome.applied
        else "The events are queued: `companion worker` processes apply them."
    )
    if outcome.summary.unmappable:
        shown = ", ".join(outcome.summary.unmappable[:10])
        lines.append(
            f"Skipped {len(outcome.summary.unmappable):,} records WooCommerce sent without dates: "
            f"{shown}" + (" ..." if len(outcome.summary.unmappable) > 10 else "")
        )
    return "\n".join(lines)


def _checked_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            "expected the shop's home URL, such as https://shop.example", param_hint="--url"
        )
    return url.strip()


def _with_hint(message: str) -> str:
    return message if "run the same import again" in message else f"{message}\n{RESUME_HINT}"
