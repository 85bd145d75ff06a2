"""One worker's pass over due steps: its moment, transport and what it reads once. Shared by
sending (claim, check, render, record) and delivery (hand to SendGrid, record answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from companion.email.rendering import RenderedEmail
from companion.flows import rules
from companion.flows.config import Configs
from companion.models import Site


@dataclass
class SendRun:
    """One worker's pass over a set of due steps, with what it reads once."""

    now: datetime
    public_url: str
    secret: bytes
    transport: Any  # SendGridTransport, a stand-in with send_batch, or None for the outbox
    configs: Configs = field(default_factory=Configs)
    counts: dict[str, int] = field(default_factory=dict)
    facts: rules.Facts = field(default_factory=rules.Facts)
    _sites: dict[int, Site] = field(default_factory=dict)
    _shared: dict[tuple[int, str, int, str | None], RenderedEmail] = field(default_factory=dict)
    _bodies: dict[tuple[int, str], int] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # per-run template data (best sellers...)

    def site(self, site_id: int) -> Site:
        if site_id not in self._sites:
            self._sites[site_id] = Site.get_by_id(site_id)
        return self._sites[site_id]

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n
