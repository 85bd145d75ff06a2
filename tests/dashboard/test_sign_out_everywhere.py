"""Sign out everywhere: every dashboard session of a site ends at once (a copied cookie, another
browser, a sign-in link not used yet), from the dashboard or, when nobody can sign in, from the
command line; other sites are untouched."""

from __future__ import annotations

import logging
from typing import Any

from click.testing import CliRunner
from flask import session

from companion.cli import main
from companion.core.db import database
from companion.dashboard import auth
from companion.dashboard.auth import login_link
from companion.models import utcnow
from companion.sites import find_site
from tests.dashboard.session import csrf_of, sign_in


def _browser(client: Any, site: Any) -> Any:
    """Another browser of the same app, signed in to `site` with a link of its own."""
    other = client.application.test_client()
    sign_in(other, site)
    return other


def _copy_of(client: Any) -> Any:
    copy = client.application.test_client()
    copy.set_cookie("companion_dashboard", client.get_cookie("companion_dashboard").value)
    return copy


def _path(link: str) -> str:
    return link.removeprefix("http://companion.test")


def _sign_out_everywhere(client: Any, site: Any) -> Any:
    csrf = csrf_of(client, f"/dashboard/{site.site.public_id}/")
    return client.post("/dashboard/logout/everywhere", data={"csrf_token": csrf})


def test_every_page_offers_sign_out_everywhere_in_the_sign_out_form(client, site):
    sign_in(client, site)
    page = client.get(f"/dashboard/{site.site.public_id}/products").get_data(as_text=True)
    assert 'formaction="/dashboard/logout/everywhere"' in page
    assert ">Sign out everywhere</button>" in page


def test_it_ends_this_session_a_copied_cookie_and_another_browsers_session(client, site):
    sign_in(client, site)
    copy, other = _copy_of(client), _browser(client, site)
    home = f"/dashboard/{site.site.public_id}/"
    assert copy.get(home).status_code == 200 and other.get(home).status_code == 200
    answer = _sign_out_everywhere(client, site)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/dashboard/login?ended=everywhere"
    for browser in (client, copy, other):
        assert browser.get(home).status_code == 302  # back to the sign-in page


def test_a_sign_in_link_not_used_yet_is_refused_afterwards_and_a_new_one_works(client, site):
    unused = _path(login_link(site.site, "http://companion.test"))
    sign_in(client, site)
    _sign_out_everywhere(client, site)
    stranger = client.application.test_client()
    answer = stranger.get(unused)
    assert answer.status_code == 401 and "companion dashboard-link" in answer.get_data(as_text=True)
    assert stranger.get(f"/dashboard/{site.site.public_id}/").status_code == 302
    sign_in(stranger, site)  # a new link
    assert stranger.get(f"/dashboard/{site.site.public_id}/").status_code == 200


def test_it_lands_on_the_sign_in_form_saying_what_happened_and_how_to_get_back_in(client, site):
    sign_in(client, site)
    answer = _sign_out_everywhere(client, site)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "You are signed out everywhere" in page and "a copied cookie too" in page
    assert "companion dashboard-link --site ID" in page and 'name="api_token"' in page


def test_another_sites_sessions_and_links_are_untouched(client, site, other_site):
    sign_in(client, site)
    theirs = _browser(client, other_site)
    their_link = _path(login_link(other_site.site, "http://companion.test"))
    _sign_out_everywhere(client, site)
    assert client.get(f"/dashboard/{site.site.public_id}/").status_code == 302
    assert theirs.get(f"/dashboard/{other_site.site.public_id}/").status_code == 200
    assert client.application.test_client().get(their_link).status_code == 302


def test_a_sign_in_checked_before_it_and_recorded_after_it_is_over_too(client, site):
    """The race: the link or token was checked against the site as it was, then everyone was
    signed out, then the session was written. It carries the generation it was checked with."""

    def signed_in_as(checked: Any) -> int:
        browser = client.application.test_client()
        with client.application.test_request_context():
            assert auth.start_session(checked)
            values = dict(session)
        with browser.session_transaction() as cookie:
            cookie.update(values)
        return browser.get(f"/dashboard/{site.site.public_id}/").status_code

    checked = find_site(site.site.public_id)
    auth.end_every_session(find_site(site.site.public_id), utcnow())
    assert signed_in_as(checked) == 302
    assert signed_in_as(find_site(site.site.public_id)) == 200


def test_it_needs_the_csrf_token(client, site):
    sign_in(client, site)
    copy = _copy_of(client)
    home = f"/dashboard/{site.site.public_id}/"
    assert client.post("/dashboard/logout/everywhere").status_code == 400
    assert client.post("/dashboard/logout/everywhere", data={"csrf_token": "x"}).status_code == 400
    assert client.get(home).status_code == 200 and copy.get(home).status_code == 200


def test_a_session_that_is_over_cannot_sign_the_owner_out_everywhere(client, site):
    """A thief's copied cookie, ended by the owner's sign-out, still holds its CSRF token."""
    sign_in(client, site)
    home = f"/dashboard/{site.site.public_id}/"
    csrf = csrf_of(client, home)
    thief = _copy_of(client)
    client.post("/dashboard/logout", data={"csrf_token": csrf})
    owner = _browser(client, site)
    answer = thief.post("/dashboard/logout/everywhere", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["Location"] == "/dashboard/login"
    assert owner.get(home).status_code == 200


def test_getting_it_is_405_naming_post(client, site):
    sign_in(client, site)
    answer = client.get("/dashboard/logout/everywhere")
    assert answer.status_code == 405 and "POST" in answer.headers["Allow"]
    assert client.get(f"/dashboard/{site.site.public_id}/").status_code == 200


def test_the_command_signs_a_site_out_everywhere_when_nobody_can_sign_in(
    client, site, other_site, cli_env
):
    sign_in(client, site)
    theirs = _browser(client, other_site)
    copy, unused = _copy_of(client), _path(login_link(site.site, "http://companion.test"))
    result = CliRunner().invoke(
        main, ["sites", "sign-out-everywhere", "--site", site.site.public_id]
    )
    assert result.exit_code == 0, result.output
    assert "1 live dashboard session(s) ended" in result.output
    assert f"companion dashboard-link --site {site.site.public_id}" in result.output
    database.connect(reuse_if_open=True)
    for browser in (client, copy):
        assert browser.get(f"/dashboard/{site.site.public_id}/").status_code == 302
    assert client.application.test_client().get(unused).status_code == 401
    assert theirs.get(f"/dashboard/{other_site.site.public_id}/").status_code == 200
    unknown = CliRunner().invoke(main, ["sites", "sign-out-everywhere", "--site", "nope"])
    assert unknown.exit_code != 0 and "No site" in unknown.output


class _Queries(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def test_checking_a_session_is_still_one_query(client, site):
    """Every dashboard request checks its session: the generation costs no query of its own."""
    sign_in(client, site)
    queries, logger = _Queries(), logging.getLogger("peewee")
    with client:
        client.get(f"/dashboard/{site.site.public_id}/flows")
        level = logger.level
        logger.addHandler(queries)
        logger.setLevel(logging.DEBUG)
        try:
            assert auth.signed_in_site() == site.site.public_id
        finally:
            logger.removeHandler(queries)
            logger.setLevel(level)
    assert queries.count == 1
