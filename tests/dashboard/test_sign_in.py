"""Nobody sees a page or an export without a session for that site; sessions are signed cookies."""

from __future__ import annotations

import time

import pytest

from companion.dashboard.auth import login_link
from companion.email import tokens
from tests.dashboard.session import csrf_of, sign_in

PAGES = [
    "/",
    "/customers",
    "/products",
    "/flows",
    "/export/channels.csv",
    "/export/top_customers.csv",
]


def test_every_page_and_export_without_a_session_sends_the_visitor_to_sign_in(client, site):
    for page in PAGES:
        answer = client.get(f"/dashboard/{site.site.public_id}{page}")
        assert answer.status_code == 302, page
        assert "/dashboard/login" in answer.headers["Location"]


def test_a_sign_in_link_sets_a_signed_http_only_same_site_cookie_and_opens_the_overview(
    client, site
):
    link = login_link(site.site, "http://companion.test").removeprefix("http://companion.test")
    answer = client.get(link)
    cookie = answer.headers["Set-Cookie"]
    assert answer.headers["Location"] == f"/dashboard/{site.site.public_id}/"
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get(f"/dashboard/{site.site.public_id}/").status_code == 200


def test_a_sign_in_link_goes_on_to_the_page_it_names_but_never_off_site(client, site, other_site):
    link = login_link(site.site, "http://companion.test").removeprefix("http://companion.test")
    target = f"/dashboard/{site.site.public_id}/products?range=custom&from=2026-11-01&to=2026-11-30"
    assert client.get(link, query_string={"next": target}).headers["Location"] == target
    home = f"/dashboard/{site.site.public_id}/"
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/dashboard/",
        f"/dashboard/{other_site.site.public_id}/",
    ):
        again = login_link(site.site, "http://companion.test").removeprefix("http://companion.test")
        assert client.get(again, query_string={"next": elsewhere}).headers["Location"] == home, (
            elsewhere
        )


def test_a_forged_or_expired_link_signs_nobody_in(client, site, settings):
    forged = tokens.login_token(b"another-secret-key-0000", site.site.public_id)
    expired = tokens.login_token(
        settings.secret_key.encode(), site.site.public_id, ttl=60, now=time.time() - 3600
    )
    for token in (forged, expired, "not-a-token"):
        answer = client.get(f"/dashboard/login/{token}")
        assert answer.status_code == 401
        assert "expired or is not valid" in answer.get_data(as_text=True)
    assert client.get(f"/dashboard/{site.site.public_id}/").status_code == 302


def test_a_tampered_session_cookie_is_ignored(client, site):
    sign_in(client, site)
    cookie = client.get_cookie("companion_dashboard")
    client.set_cookie("companion_dashboard", cookie.value[:-3] + "abc")
    assert client.get(f"/dashboard/{site.site.public_id}/").status_code == 302


def test_the_sign_in_form_takes_the_site_id_and_its_api_token(client, site):
    form = {
        "site_id": site.site.public_id,
        "api_token": site.api_token,
        "csrf_token": csrf_of(client, "/dashboard/login"),
    }
    answer = client.post("/dashboard/login", data=form)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/dashboard/{site.site.public_id}/"


def test_the_sign_in_form_refuses_a_wrong_token_and_a_missing_csrf_token(client, site, other_site):
    csrf = csrf_of(client, "/dashboard/login")
    wrong = client.post(
        "/dashboard/login",
        data={
            "site_id": site.site.public_id,
            "api_token": other_site.api_token,
            "csrf_token": csrf,
        },
    )
    assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    no_csrf = client.post(
        "/dashboard/login", data={"site_id": site.site.public_id, "api_token": site.api_token}
    )
    assert no_csrf.status_code == 400
    assert client.get(f"/dashboard/{site.site.public_id}/").status_code == 302


def test_another_sites_pages_and_exports_are_404(client, site, other_site):
    sign_in(client, site)
    for page in PAGES:
        assert client.get(f"/dashboard/{other_site.site.public_id}{page}").status_code == 404, page
    assert client.get("/dashboard/no-such-site/").status_code == 404


def test_sign_in_after_a_redirect_returns_to_the_page_asked_for_but_never_off_site(client, site):
    asked = f"/dashboard/{site.site.public_id}/products?range=7d"
    for target, expected in (
        (asked, asked),
        ("https://evil.example/", f"/dashboard/{site.site.public_id}/"),
    ):
        form = {
            "site_id": site.site.public_id,
            "api_token": site.api_token,
            "next": target,
            "csrf_token": csrf_of(client, "/dashboard/login"),
        }
        assert client.post("/dashboard/login", data=form).headers["Location"] == expected


def test_signing_out_needs_the_csrf_token_and_ends_the_session(client, site):
    sign_in(client, site)
    home = f"/dashboard/{site.site.public_id}/"
    assert client.post("/dashboard/logout").status_code == 400
    assert client.get(home).status_code == 200
    assert (
        client.post("/dashboard/logout", data={"csrf_token": csrf_of(client, home)}).status_code
        == 303
    )
    assert client.get(home).status_code == 302


def test_pages_forbid_framing_inline_scripts_and_caching(client, site):
    sign_in(client, site)
    headers = client.get(f"/dashboard/{site.site.public_id}/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"


def test_a_sign_in_link_works_once(client, site):
    link = login_link(site.site, "http://companion.test").removeprefix("http://companion.test")
    assert client.get(link).status_code in (302, 303)
    again = client.application.test_client().get(link)
    assert again.status_code == 401 and "used already" in again.get_data(as_text=True)


def test_signing_out_ends_the_session_for_a_copied_cookie_too(client, site):
    sign_in(client, site)
    home = f"/dashboard/{site.site.public_id}/"
    copy = client.application.test_client()
    copy.set_cookie("companion_dashboard", client.get_cookie("companion_dashboard").value)
    assert copy.get(home).status_code == 200
    assert (
        client.post("/dashboard/logout", data={"csrf_token": csrf_of(client, home)}).status_code
        == 303
    )
    assert copy.get(home).status_code == 302  # back to the sign-in page


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_signing_out_another_way_than_post_is_405_naming_post(client, site, method):
    """/dashboard/logout is not a site's overview (/dashboard/<site_id>/): no redirect there."""
    sign_in(client, site)
    answer = getattr(client, method)("/dashboard/logout")
    assert answer.status_code == 405 and set(answer.headers["Allow"].split(", ")) == {
        "POST",
        "OPTIONS",
    }, (
        answer.status_code,
        answer.headers,
    )
    assert client.get(f"/dashboard/{site.site.public_id}/").status_code == 200
