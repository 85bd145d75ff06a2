"""One site never sees another's data: another site's token gets 401 on every route, the same
answer as a wrong token for an id that does not exist, so ids cannot be probed."""

from __future__ import annotations

import pytest

from companion.models import Site
from companion.sites import find_site
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


def test_find_site_reads_a_site_as_peewee_does_and_sees_a_new_secret_at_once(db, site, other_site):
    """find_site reuses its statement's text (docs/benchmarks.md): the same site, fields converted
    alike (options as JSON, times), no other site, nothing for an unknown id, and no cache of rows:
    a secret rotated a moment ago is what the next delivery is checked against."""
    Site.update(options={"flows": {"a": 1}}).where(Site.id == site.site.id).execute()
    for public_id in (site.site.public_id, other_site.site.public_id):
        expected = Site.get(Site.public_id == public_id)
        found = find_site(public_id)
        assert found is not None and found.__data__ == expected.__data__
        assert not found.is_dirty()
    assert find_site(site.site.public_id).options == {"flows": {"a": 1}}
    assert find_site("0000000000000000") is None
    assert find_site("' OR '1'='1") is None
    Site.update(secret="whsec_rotated").where(Site.id == site.site.id).execute()
    assert find_site(site.site.public_id).secret == "whsec_rotated"
