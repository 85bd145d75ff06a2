"""Signed tokens in tracking, unsubscribe and login links."""

from __future__ import annotations

import re
import uuid

import pytest

from companion.email.tokens import (
    PURPOSE_CLICK,
    PURPOSE_LOGIN,
    PURPOSE_OPEN,
    PURPOSE_UNSUBSCRIBE,
    BadToken,
    b64url_decode,
    b64url_encode,
    click_token,
    login_token,
    make_token,
    open_token,
    read_token,
    unsubscribe_token,
)

URL_SAFE = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")


def test_a_click_token_reads_back_as_its_message_and_link(link_secret: bytes) -> None:
    message_id = str(uuid.uuid4())
    token = click_token(link_secret, message_id, 3)
    assert read_token(link_secret, PURPOSE_CLICK, token) == {"m": message_id, "l": 3}


def test_tokens_are_url_safe_without_escaping(link_secret: bytes) -> None:
    for token in (
        open_token(link_secret, str(uuid.uuid4())),
        unsubscribe_token(link_secret, str(uuid.uuid4())),
        login_token(link_secret, "site-uuid"),
    ):
        assert URL_SAFE.match(token), token


def test_a_token_signed_with_another_secret_is_refused(link_secret: bytes) -> None:
    token = open_token(b"someone else's secret", str(uuid.uuid4()))
    with pytest.raises(BadToken):
        read_token(link_secret, PURPOSE_OPEN, token)


def test_a_token_with_a_changed_payload_is_refused(link_secret: bytes) -> None:
    payload, signature = click_token(link_secret, str(uuid.uuid4()), 0).split(".")
    forged = b64url_decode(payload).replace(b'"l":0', b'"l":1')
    with pytest.raises(BadToken):
        read_token(link_secret, PURPOSE_CLICK, f"{b64url_encode(forged)}.{signature}")


def test_an_open_token_cannot_be_used_to_unsubscribe(link_secret: bytes) -> None:
    token = open_token(link_secret, str(uuid.uuid4()))
    with pytest.raises(BadToken):
        read_token(link_secret, PURPOSE_UNSUBSCRIBE, token)


def test_a_login_link_expires_after_its_lifetime(link_secret: bytes) -> None:
    token = login_token(link_secret, "site-uuid", ttl=900, now=1_000_000)
    assert read_token(link_secret, PURPOSE_LOGIN, token, now=1_000_900)["s"] == "site-uuid"
    with pytest.raises(BadToken, match="expired"):
        read_token(link_secret, PURPOSE_LOGIN, token, now=1_000_901)


def test_two_login_links_for_one_site_in_one_second_differ(link_secret: bytes) -> None:
    """Each link works once, so two made together must not be the same link."""
    assert login_token(link_secret, "site-uuid", now=1_000_000) != login_token(
        link_secret, "site-uuid", now=1_000_000
    )


def test_a_token_without_lifetime_never_expires(link_secret: bytes) -> None:
    token = make_token(link_secret, "open", {"m": "x"}, None, now=0)
    assert read_token(link_secret, "open", token, now=4_000_000_000) == {"m": "x"}


@pytest.mark.parametrize("garbage", ["", ".", "abc", "a.b.c", "%%%.***", "ünï.cödé", "e30.e30"])
def test_garbage_is_refused_as_a_bad_token_not_an_error(link_secret: bytes, garbage: str) -> None:
    with pytest.raises(BadToken):
        read_token(link_secret, PURPOSE_OPEN, garbage)


def test_the_payload_carries_the_uuid_and_no_sequential_number(link_secret: bytes) -> None:
    message_id = str(uuid.uuid4())
    payload = b64url_decode(click_token(link_secret, message_id, 0).split(".")[0])
    assert message_id.encode() in payload
    assert b"site" not in payload and b"@" not in payload
