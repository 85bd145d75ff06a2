"""Property: whatever JSON a signed client sends, the answer is a clear 2xx/4xx, never a 500."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import signed_headers
from tests.factories import order

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
TEMPLATE = order()


def _mutated_event(draw_key: str, value: object, where: str) -> dict:
    event = json.loads(json.dumps(TEMPLATE))
    target = event if where == "envelope" else event["data"] if where == "data" else event["data"]["items"][0]
    target[draw_key] = value
    return event


keys = st.sampled_from(["id", "type", "source", "occurred_at", "contact", "data", "session_id", "status", "total",
                        "currency", "items", "created_at", "modified_at", "quantity", "price", "product_id",
                        "attribution", "paid_at", "extra"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys, value=json_values, where=st.sampled_from(["envelope", "data", "item"]))
def test_any_mutated_event_gets_202_or_a_4xx(client, site, key, value, where):
    body = json.dumps({"events": [_mutated_event(key, value, where)]}).encode()
    answer = client.post(f"/v1/sites/{site.site.public_id}/events", data=body, headers=signed_headers(site.secret, body))
    assert answer.status_code in (202, 422), answer.json
    assert answer.is_json


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values)
def test_any_json_body_gets_a_json_4xx_or_202(client, site, payload):
    body = json.dumps(payload).encode()
    answer = client.post(f"/v1/sites/{site.site.public_id}/events", data=body, headers=signed_headers(site.secret, body))
    assert 200 <= answer.status_code < 500 and answer.is_json and ("error" in answer.json or "accepted" in answer.json)
