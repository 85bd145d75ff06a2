"""Signing in to the dashboard in a test, and reading its forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from companion.dashboard.auth import login_link
from companion.sites import find_site


def sign_in(client: Any, new_site: Any) -> None:
    # A link for the site as stored now: signing out everywhere moves its session generation.
    link = login_link(find_site(new_site.site.public_id), "http://companion.test")
    answer = client.get(link.removeprefix("http://companion.test"))
    assert answer.status_code == 302


def csrf_of(client: Any, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


def day(n: int, hour: int = 10) -> str:
    """An ISO time n days ago (UTC), so orders land inside the default 30-day range."""
    moment = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(
        days=n
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
