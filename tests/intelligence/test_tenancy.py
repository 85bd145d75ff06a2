"""Every intelligence route answers 404 to another site's token and 401 without one."""

from __future__ import annotations

from typing import Any

import pytest

from companion.intelligence.refresh import refresh_site
from companion.models import utcnow
from tests.factories import order
from tests.helpers import bearer, post_events, run_jobs

ROUTES = ["segments", "products/7/recommendations", "forecast?product_id=7&days=7", "alerts"]


@pytest.mark.parametrize("route", ROUTES)
def test_another_sites_token_gets_401(site: Any, other_site: Any, client: Any, route: str) -> None:
    assert post_events(client, site, [order()]).status_code == 202
    run_jobs()
    refresh_site(site.site, utcnow())  # as the nightly job would, after the events the API took now
    mine = client.get(f"/v1/sites/{site.site.public_id}/{route}", headers=bearer(site))
    theirs = client.get(f"/v1/sites/{site.site.public_id}/{route}", headers=bearer(other_site))
    assert mine.status_code == 200
    assert theirs.status_code == 401 and "error" in theirs.json
    assert client.get(f"/v1/sites/{site.site.public_id}/{route}").status_code == 401
