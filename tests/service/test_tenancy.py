"""One site never sees another's data: another site's token gets 401 on every route, the same
answer as a wrong token for an id that does not exist, so ids cannot be probed."""

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
def test_the_other_sites_token_gets_401(client, site, other_site, route):
    post_events(client, site, [order()])
    run_jobs()
    answer = client.get(route.format(id=site.site.public_id), headers=bearer(other_site))
    assert answer.status_code == 401


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


@pytest.mark.parametrize(
    ("method", "route"),
    [("get", "contacts"), ("get", "flows"), ("post", "privacy/export"), ("post", "dashboard-link")],
)
def test_a_known_and_an_unknown_site_id_answer_a_wrong_or_missing_token_alike(
    client, site, other_site, method, route
):
    """What a site id answers without its token says nothing about whether the id exists: the
    same status, body and WWW-Authenticate header (a missing token may say so: it reveals
    nothing)."""

    def answer(public_id: str, headers: dict[str, str]) -> tuple[int, object, str | None]:
        got = getattr(client, method)(
            f"/v1/sites/{public_id}/{route}", json={"email": "a@example.com"}, headers=headers
        )
        return got.status_code, got.get_json(), got.headers.get("WWW-Authenticate")

    for headers in (bearer(other_site), {"Authorization": "Bearer nope"}, {}):
        known, unknown = answer(site.site.public_id, headers), answer("0000000000000000", headers)
        assert known == unknown and known[0] == 401, (headers, known, unknown)
        assert known[2].startswith("Bearer "), known
    assert 'error="invalid_token"' in answer(site.site.public_id, bearer(other_site))[2]
