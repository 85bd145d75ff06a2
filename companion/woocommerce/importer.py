"""History import through WooCommerce's REST API v3: orders (with refunds), products, customers.

Pages are read in id order, 100 at a time, by `offset`, each request re-reading the last item of
the previous page. That overlap makes the import safe against a live shop: new orders get higher
ids and land at the end; when something before the position is deleted, the overlap item is not
where it was, and the importer steps back instead of skipping. After the sink accepts a page the
cursor is saved, so Ctrl-C, a dropped network or a server that keeps failing loses nothing: the
same call resumes there. Events are deterministic (see companion.woocommerce.mapping), so a page
sent
twice, or a whole second run, only yields duplicates.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_QUERY, Client
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from companion.core.numbers import whole_number
from companion.woocommerce.mapping import (
    customer_to_event,
    order_to_events,
    product_to_event,
    utc_iso,
)

RESOURCES = ("orders", "products", "customers")
Sink = Callable[[list[dict[str, Any]]], None]
log = logging.getLogger(__name__)


class WooImportError(Exception):
    """The import stopped; everything the sink accepted is checkpointed, so running again
    resumes."""


class WooRequestError(WooImportError):
    """WooCommerce answered with an error that retrying cannot fix (401, 403, 404, 400...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CheckpointStore(Protocol):
    """Where the importer keeps one cursor (a flat JSON-able dict) per resource."""

    def load(self, resource: str) -> dict[str, Any] | None: ...

    def save(self, resource: str, cursor: dict[str, Any]) -> None: ...


class JsonFileCheckpoints:
    """A CheckpointStore in one JSON file, replaced atomically on every save."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self, resource: str) -> dict[str, Any] | None:
        return self._read().get(resource)

    def save(self, resource: str, cursor: dict[str, Any]) -> None:
        state = self._read()
        state[resource] = cursor
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def _read(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}


@dataclass
class Cursor:
    """Position in one resource: `offset` items (in id order) are behind, the last being
    `last_id`."""

    url: str
    since: str | None
    offset: int = 0
    last_id: int = 0
    imported: int = 0
    total: int = 0
    complete: bool = False


_CURSOR_FIELDS = set(Cursor.__dataclass_fields__)


@dataclass
class ImportSummary:
    imported: dict[str, int] = field(default_factory=dict)
    events: int = 0
    unmappable: list[str] = field(default_factory=list)


class WooClient:
    """GET against /wp-json/wc/v3 with WooCommerce's auth and retries for transient failures."""

    def __init__(
        self,
        base_url: str,
        key: str,
        secret: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 60.0,
        max_attempts: int = 6,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str = True,
        query_string_auth: bool = False,
    ) -> None:
        self.base = base_url.rstrip("/") + "/wp-json/wc/v3/"
        self.session = session or requests.Session()
        self.verify = verify  # per request: REQUESTS_CA_BUNDLE would override a session setting
        self.timeout, self.max_attempts, self.backoff = timeout, max_attempts, backoff
        self.max_wait, self.sleep = max_wait, sleep
        self._key, self._secret = key, secret
        self._https = self.base.lower().startswith("https://")
        self._query_auth = query_string_auth and self._https
        if self._https and not self._query_auth:
            self.session.auth = (key, secret)
        self._oauth = (
            None
            if self._https
            else Client(
                key,
                client_secret=secret,
                signature_method=SIGNATURE_HMAC_SHA1,
                signature_type=SIGNATURE_TYPE_QUERY,
            )
        )

    def get(self, path: str, params: Mapping[str, Any]) -> tuple[Any, Mapping[str, str]]:
        """The decoded JSON and headers; retries 429 (after Retry-After), 5xx and broken
        connections."""
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.session.get(
                    self._url(path, params), timeout=self.timeout, verify=self.verify
                )
                if response.status_code == 200:
                    return response.json(), response.headers
                problem = f"HTTP {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    raise WooRequestError(response.status_code, _error_text(path, response))
                wait = _retry_after(response) or self._backoff(attempt)
            except requests.exceptions.SSLError as exc:
                raise WooImportError(
                    f"TLS with {self.base} failed, retrying cannot help: {exc}"
                ) from exc
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                ValueError,
            ) as exc:
                problem, wait = f"{type(exc).__name__}: {exc}", self._backoff(attempt)
            if attempt < self.max_attempts:
                log.warning(
                    "WooCommerce GET %s: %s; retry %d in %.1fs", path, problem, attempt, wait
                )
                self.sleep(min(wait, self.max_wait))
        raise WooImportError(f"GET {path} failed {self.max_attempts} times (last: {problem})")

    def _url(self, path: str, params: Mapping[str, Any]) -> str:
        query = dict(params)
        if self._query_auth:
            query.update(consumer_key=self._key, consumer_secret=self._secret)
        url = self.base + path + ("?" + urlencode(query) if query else "")
        if self._oauth is None:
            return url
        # Plain HTTP: OAuth 1.0a one-legged, parameters in the query string, as WooCommerce wants.
        signed, _headers, _body = self._oauth.sign(url, http_method="GET")
        return signed

    def _backoff(self, attempt: int) -> float:
        return self.backoff * 2 ** (attempt - 1)


class WooImporter:
    """Pulls a store's history into `sink` (one call per page of mapped events), resumably."""

    def __init__(
        self,
        base_url: str,
        key: str,
        secret: str,
        sink: Sink,
        checkpoints: CheckpointStore,
        *,
        since: datetime | None = None,
        resources: Iterable[str] = RESOURCES,
        per_page: int = 100,
        progress: bool = True,
        console: Console | None = None,
        client: WooClient | None = None,
        **client_options: Any,
    ) -> None:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be an aware datetime (a naive one has no zone to trust)")
        self.url = base_url.rstrip("/")
        self.sink, self.checkpoints, self.per_page = sink, checkpoints, per_page
        self.since = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if since else None
        self.resources = tuple(resources)
        self.client = client or WooClient(base_url, key, secret, **client_options)
        self.show_progress, self.console = progress, console or Console(stderr=True)
        self._global_refunds = True  # /wc/v3/refunds exists from WooCommerce 9.0

    def run(self) -> ImportSummary:
        """Import every resource; raises WooImportError (resumable) when the shop keeps failing."""
        summary = ImportSummary()
        with _progress(self.console, disabled=not self.show_progress) as progress:
            for resource in self.resources:
                summary.imported[resource] = self._import(resource, progress, summary)
        return summary

    def _import(self, resource: str, progress: Progress, summary: ImportSummary) -> int:
        cursor = self._start(resource)
        task = progress.add_task(resource, total=cursor.total or None, completed=cursor.offset)
        while not cursor.complete:
            try:
                offset, items, total = self._fetch(resource, cursor)
                fresh = [item for item in items if int(item["id"]) > cursor.last_id]
                events = self._map(resource, fresh, summary)
            except WooImportError as exc:
                raise type(exc)(*_resumable(exc, resource, cursor)) from exc
            if events:
                self.sink(events)
            summary.events += len(events)
            _advance(cursor, offset, items, len(fresh), total, self.per_page)
            self.checkpoints.save(resource, asdict(cursor))
            progress.update(task, total=max(cursor.total, cursor.offset), completed=cursor.offset)
        return cursor.imported

    def _start(self, resource: str) -> Cursor:
        saved = self.checkpoints.load(resource) or {}
        if (
            saved.keys() == _CURSOR_FIELDS
            and not saved["complete"]
            and (saved["since"], saved["url"]) == (self.since, self.url)
        ):
            return Cursor(**saved)
        return Cursor(url=self.url, since=self.since)

    def _fetch(self, resource: str, cursor: Cursor) -> tuple[int, list[dict[str, Any]], int]:
        """The page after the cursor, starting with the cursor's last item (the overlap)."""
        offset = max(cursor.offset - 1, 0)
        while True:
            items, headers = self.client.get(resource, self._params(resource, offset))
            total = int(headers.get("X-WP-Total") or 0)
            if offset == 0 or (items and int(items[0]["id"]) <= cursor.last_id):
                return offset, items, total
            # The overlap item moved: something before it was deleted. Step back; ids filter
            # repeats.
            offset = max(offset - self.per_page, 0)

    def _params(self, resource: str, offset: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "per_page": self.per_page,
            "offset": offset,
            "orderby": "id",
            "order": "asc",
        }
        if self.since and resource != "customers":  # /customers has no modified_after
            params.update(modified_after=self.since, dates_are_gmt="true")
        return params

    def _map(
        self, resource: str, items: list[dict[str, Any]], summary: ImportSummary
    ) -> list[dict[str, Any]]:
        refund_dates = self._refund_dates(items) if resource == "orders" else {}
        events: list[dict[str, Any]] = []
        for item in items:
            if resource == "customers" and not self._changed_since(item):
                continue
            try:
                events.extend(_map_one(resource, item, refund_dates))
            except ValueError as exc:  # a broken record must not block the rest of the history
                log.warning("skipped WooCommerce %s %s: %s", resource, item.get("id"), exc)
                if len(summary.unmappable) < 1000:
                    summary.unmappable.append(f"{resource}/{item.get('id')}")
        return events

    def _changed_since(self, customer: Mapping[str, Any]) -> bool:
        modified = utc_iso(customer.get("date_modified_gmt")) or utc_iso(
            customer.get("date_created_gmt")
        )
        return self.since is None or modified is None or modified >= self.since + "Z"

    def _refund_dates(self, orders: list[dict[str, Any]]) -> dict[int, str | None]:
        """Refund id -> date_created_gmt: one /refunds?include= call per page (WooCommerce 9.0+),
        else /orders/<id>/refunds for each order that has refunds."""
        refunded = [o for o in orders if o.get("refunds")]
        if not refunded:
            return {}
        if self._global_refunds:
            ids = [r["id"] for o in refunded for r in o["refunds"]]
            try:
                return self._dates_from("refunds", ids)
            except WooRequestError as exc:
                if exc.status != 404:
                    raise
                self._global_refunds = False
        dates: dict[int, str | None] = {}
        for order in refunded:
            refunds, _ = self.client.get(f"orders/{order['id']}/refunds", {"per_page": 100})
            dates.update({r["id"]: r.get("date_created_gmt") for r in refunds})
        return dates

    def _dates_from(self, path: str, ids: list[int]) -> dict[int, str | None]:
        dates: dict[int, str | None] = {}
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            params = {"include": ",".join(map(str, chunk)), "per_page": 100}
            refunds, _ = self.client.get(path, params)
            dates.update({r["id"]: r.get("date_created_gmt") for r in refunds})
        return dates


def _map_one(
    resource: str, item: dict[str, Any], refund_dates: Mapping[int, str | None]
) -> list[dict[str, Any]]:
    if resource == "orders":
        return order_to_events(item, refund_dates=refund_dates)
    if resource == "products":
        return [product_to_event(item)]
    return [customer_to_event(item)]


def _advance(
    cursor: Cursor, offset: int, items: list[dict[str, Any]], fresh: int, total: int, per_page: int
) -> None:
    cursor.offset = offset + len(items)
    cursor.last_id = max([cursor.last_id, *(int(i["id"]) for i in items)])
    cursor.imported += fresh
    cursor.total = total
    cursor.complete = len(items) < per_page


def _resumable(exc: WooImportError, resource: str, cursor: Cursor) -> tuple[Any, ...]:
    note = (
        f"{exc} -- stopped in {resource} after {cursor.offset} of {cursor.total or '?'}; "
        "everything before is saved: run the same import again to resume from there"
    )
    return (exc.status, note) if isinstance(exc, WooRequestError) else (note,)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if (seconds := whole_number(value)) is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _error_text(path: str, response: requests.Response) -> str:
    try:
        body = response.json()
        detail = f"{body.get('code')}: {body.get('message')}" if isinstance(body, dict) else body
    except ValueError:
        detail = response.text[:200]
    hint = (
        " (check the key and secret, and that the key has read access)"
        if response.status_code in (401, 403)
        else ""
    )
    return f"WooCommerce answered {response.status_code} to GET {path}: {detail}{hint}"


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s", style="progress.data.speed")


def _progress(console: Console, *, disabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disabled,
    )
