"""The owner's dashboard: server-rendered pages behind a per-site session, with CSV exports.

blueprint   the blueprint, cookie settings, security headers, HTML error pages
auth        sign-in links, API-token sign-in, sessions bound to one site, CSRF
login       the sign-in and sign-out routes
pages       overview, customers, products, contact, CSV export
flows_page  flow figures, the outbox and the on/off switches
flow_editor one flow's settings as a form, with the step's preview beside it
flow_tests  on that page: subject A/B tests (keep a subject) and the backlog button
periods     date range presets and the comparison period
figures     headline metrics and daily series from bounded queries
overview, customers, products, timeline   what each page shows
tables      one table model for the page and its CSV
"""

from __future__ import annotations

from companion.dashboard import (  # noqa: F401  (routes attach on import)
    flow_editor,
    flow_tests,
    flows_page,
    formatting,
    login,
    pages,
)
from companion.dashboard.blueprint import bp

__all__ = ["bp"]
