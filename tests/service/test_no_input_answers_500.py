"""Property: whatever JSON a signed client sends, the answer is a clear 2xx/4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.models import DeadLetter, RawEvent
from tests.factories import order
from tests.helpers import bearer, post_events, run_jobs, signed_headers

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
TEMPLATE = order()


def _mutated_event(draw_key: str, value: object, where: str) -> dict:
    event = json.loads(json.dumps(TEMPLATE))
    target = (
        event
        if where == "envelope"
        else event["data"]
        if where == "data"
        else event["data"]["items"][0]
    )
    target[draw_key] = value
    return event


keys = st.sampled_from(
    [
        "id",
        "type",
        "source",
        "occurred_at",
        "contact",
        "data",
        "session_id",
        "status",
        "total",
        "currency",
        "items",
        "created_at",
        "modified_at",
        "quantity",
        "price",
        "product_id",
        "attribution",
        "paid_at",
        "extra",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=keys, value=json_values, where=st.sampled_from(["envelope", "data", "item"]))
def test_any_mutated_event_gets_202_or_a_4xx(client, site, key, value, where):
    body = json.dumps({"events": [_mutated_event(key, value, where)]}).encode()
    answer = client.post(
        f"/v1/sites/{site.site.public_id}/events",
        data=body,
        headers=signed_headers(site.secret, body),
    )
    assert answer.status_code in (202, 422), answer.json
    assert answer.is_json


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=json_values)
def test_any_json_body_gets_a_json_4xx_or_202(client, site, payload):
    body = json.dumps(payload).encode()
    answer = client.post(
        f"/v1/sites/{site.site.public_id}/events",
        data=body,
        headers=signed_headers(site.secret, body),
    )
    assert (
        200 <= answer.status_code < 500
        and answer.is_json
        and ("error" in answer.json or "accepted" in answer.json)
    )


@pytest.mark.parametrize(
    "stamp", ["9" * 400, " 1796335086", "1796_335086", "+1796335086", "1796335086.0", "١٧٩٦"]
)
def test_a_webhook_timestamp_that_is_not_plain_unix_seconds_is_refused_with_401(
    client, site, stamp
):
    body = json.dumps({"events": [order()]}).encode()
    headers = {**signed_headers(site.secret, body), "webhook-timestamp": stamp}
    answer = client.post(f"/v1/sites/{site.site.public_id}/events", data=body, headers=headers)
    assert answer.status_code == 401 and "unix seconds" in answer.json["error"]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deeply_nested_json_gets_a_400_on_every_json_route_and_the_batch_is_kept(client, site):
    body = ('{"events": ' + _nested(100_000) + "}").encode()
    answer = client.post(
        f"/v1/sites/{site.site.public_id}/events",
        data=body,
        headers=signed_headers(site.secret, body),
    )
    assert answer.status_code == 400 and "nested" in answer.json["error"]
    assert (
        DeadLetter.select().where(DeadLetter.site == site.site.id).count() == 1
    )  # nothing is lost
    deep = ('{"email": ' + _nested(100_000) + "}").encode()
    for method, route in (("put", "flows"), ("post", "privacy/export"), ("post", "privacy/erase")):
        answer = getattr(client, method)(
            f"/v1/sites/{site.site.public_id}/{route}",
            data=deep,
            headers={**bearer(site), "Content-Type": "application/json"},
        )
        assert answer.status_code == 400 and "nested" in answer.json["error"], (
            route,
            answer.status_code,
        )


def test_a_405_names_the_methods_allowed(client, site):
    answer = client.get(f"/v1/sites/{site.site.public_id}/events")
    assert answer.status_code == 405 and set(answer.headers["Allow"].split(", ")) >= {"POST"}


def test_text_with_an_unpaired_surrogate_a_year_one_time_and_20000_coupons_are_refused_at_the_edge(
    client, site
):
    lone = order(1)
    lone["contact"]["first_name"] = "Ann\ud800"
    year_one = order(2, paid="0001-01-01T00:00:00Z")
    coupons = order(3)
    coupons["data"]["coupons"] = [f"C{n}" for n in range(20_000)]
    emoji_and_backslash = order(4)
    emoji_and_backslash["contact"]["first_name"] = "Ann \U0001f600 \\ud800"
    answer = post_events(client, site, [lone, year_one, coupons, emoji_and_backslash])
    assert answer.status_code == 202 and answer.json["accepted"] == 1, answer.json
    fields = {r["index"]: r["fields"] for r in answer.json["rejected"]}
    assert "surrogate" in fields[0]["_schema"][0]
    assert fields[1]["data"]["paid_at"] == ["Time must be between 1970 and 2200."]
    assert "coupons" in fields[2]["data"]
    run_jobs()
    assert RawEvent.select().where(RawEvent.failed_at.is_null(False)).count() == 0
