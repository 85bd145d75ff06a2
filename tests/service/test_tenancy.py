"""One site never sees another's data: another site's token gets 404 on every route."""

from __future__ import annotations

import pytest

from tests.factories import order
from tests.helpers import bearer, post_events, run_jobs

ROUTES = [
    "/v1/sites/{id}/contacts",
    "/v1/sites/{id}/contacts/ann@example.com",
    "/v1/sites/{id}/contacts/1",
]


@pytest.mark.parametrize("route", ROUTES)
def test_the_other_sites_token_gets_404(client, site, other_site, route):
    post_events(client, site, [order()])
    run_jobs()
    answer = client.get(route.format(id=site.site.public_id), headers=bearer(other_site))
    assert answer.status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_no_token_is_401(client, site, route):
    answer = client.get(route.format(id=site.site.public_id))
    assert answer.status_code == 401
    assert "Bearer" in answer.json["error"]


def test_a_contact_of_another_site_is_not_found_through_this_sites_route(client, site, other_site):
    post_events(client, site, [order()])
    run_jobs()
    answer = client.get(
        f"/v1/sites/{other_site.site.public_id}/contacts/ann@example.com",
        headers=bearer(other_site),
    )
    assert answer.status_code == 404
    listing = client.get(
        f"/v1/sites/{other_site.site.public_id}/contacts", headers=bearer(other_site)
    )
    assert listing.json["total"] == 0
