"""The plugin asks for a short-lived dashboard link with the site's token; the link signs in."""

from __future__ import annotations

from tests.helpers import bearer


def test_the_sites_token_gets_a_link_that_signs_in_to_its_dashboard(client, site):
    answer = client.post(f"/v1/sites/{site.site.public_id}/dashboard-link", headers=bearer(site))
    assert answer.status_code == 200 and answer.json["expires_in"] == 900
    url = answer.json["url"]
    assert url.startswith("http://companion.test/dashboard/login/") and site.api_token not in url
    signed_in = client.get(url.removeprefix("http://companion.test"))
    assert signed_in.status_code in (302, 303)
    assert site.site.public_id in signed_in.headers["Location"]
    page = client.get(signed_in.headers["Location"])
    assert page.status_code == 200


def test_another_sites_token_and_no_token_get_401(client, site, other_site):
    route = f"/v1/sites/{site.site.public_id}/dashboard-link"
    assert client.post(route, headers=bearer(other_site)).status_code == 401
    assert client.post(route).status_code == 401
