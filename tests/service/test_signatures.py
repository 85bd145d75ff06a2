"""Only requests signed with the site's own secret, recently, are stored."""

from __future__ import annotations

import json
import time

from companion.models import DeadLetter, RawEvent
from tests.factories import order
from tests.helpers import post_events, signed_headers


def _post(client, new_site, body: bytes, headers: dict[str, str]):
    return client.post(f"/v1/sites/{new_site.site.public_id}/events", data=body, headers=headers)


def test_a_correctly_signed_batch_is_accepted(client, site):
    answer = post_events(client, site, [order()])
    assert answer.status_code == 202
    assert answer.json == {"accepted": 1, "duplicates": 0, "rejected": []}


def test_it_rejects_a_request_without_signature_headers_and_stores_nothing(client, site):
    answer = _post(
        client,
        site,
        json.dumps({"events": [order()]}).encode(),
        {"Content-Type": "application/json"},
    )
    assert answer.status_code == 401
    assert "webhook-signature" in answer.json["error"]
    assert RawEvent.select().count() == 0 and DeadLetter.select().count() == 0


def test_it_rejects_a_wrong_signature(client, site, other_site):
    body = json.dumps({"events": [order()]}).encode()
    answer = _post(client, site, body, signed_headers(other_site.secret, body))
    assert answer.status_code == 401
    assert RawEvent.select().count() == 0


def test_it_rejects_a_stale_timestamp(client, site):
    body = json.dumps({"events": [order()]}).encode()
    answer = _post(
        client, site, body, signed_headers(site.secret, body, timestamp=int(time.time()) - 301)
    )
    assert answer.status_code == 401
    assert "5 minutes" in answer.json["error"]
    assert RawEvent.select().count() == 0


def test_it_rejects_a_timestamp_from_the_future(client, site):
    body = json.dumps({"events": [order()]}).encode()
    answer = _post(
        client, site, body, signed_headers(site.secret, body, timestamp=int(time.time()) + 400)
    )
    assert answer.status_code == 401


def test_it_rejects_a_replay_with_a_changed_body(client, site):
    body = json.dumps({"events": [order(total="10.00")]}).encode()
    headers = signed_headers(site.secret, body)
    tampered = body.replace(b'"10.00"', b'"1000.00"')
    assert _post(client, site, tampered, headers).status_code == 401
    assert RawEvent.select().count() == 0


def test_events_signed_for_one_site_are_refused_on_another_sites_route(client, site, other_site):
    body = json.dumps({"events": [order()]}).encode()
    answer = _post(client, other_site, body, signed_headers(site.secret, body))
    assert answer.status_code == 401
    assert RawEvent.select().count() == 0


def test_an_unknown_site_is_404(client, site):
    body = json.dumps({"events": [order()]}).encode()
    answer = client.post(
        "/v1/sites/nope/events", data=body, headers=signed_headers(site.secret, body)
    )
    assert answer.status_code == 404


def test_a_signature_among_several_rotated_ones_is_enough(client, site, other_site):
    body = json.dumps({"events": [order()]}).encode()
    good = signed_headers(site.secret, body)
    bad = signed_headers(
        other_site.secret, body, msg_id=good["webhook-id"], timestamp=int(good["webhook-timestamp"])
    )
    good["webhook-signature"] = f"{bad['webhook-signature']} {good['webhook-signature']}"
    assert _post(client, site, body, good).status_code == 202
