"""Bad input gets a clear 4xx and is kept as a dead letter; the good events of a batch go
through."""

from __future__ import annotations

import json

from companion.models import DeadLetter, Product, RawEvent, Subscription
from tests.factories import event, order
from tests.helpers import post_events, run_jobs, signed_headers


def _post_raw(client, new_site, body: bytes):
    return client.post(
        f"/v1/sites/{new_site.site.public_id}/events",
        data=body,
        headers=signed_headers(new_site.secret, body),
    )


def test_an_invalid_event_is_rejected_with_field_messages_while_the_valid_ones_are_accepted(
    client, site
):
    bad = order(101)
    bad["data"]["total"] = 19.9
    answer = post_events(client, site, [order(100), bad])
    assert answer.status_code == 202
    assert answer.json["accepted"] == 1
    [rejected] = answer.json["rejected"]
    assert rejected["index"] == 1 and rejected["id"] == bad["id"]
    assert "decimal string" in rejected["fields"]["data"]["total"][0]
    letter = DeadLetter.get()
    assert letter.event_id == bad["id"] and json.loads(letter.payload)["data"]["total"] == 19.9
    assert "total" in json.loads(letter.reason)["data"]


def test_a_batch_with_nothing_valid_is_422_and_every_event_is_kept(client, site):
    bad = order()
    bad["occurred_at"] = "2026-11-20T10:00:00"
    answer = post_events(client, site, [bad])
    assert answer.status_code == 422
    assert "no UTC offset" in answer.json["rejected"][0]["fields"]["occurred_at"][0]
    assert DeadLetter.select().count() == 1 and RawEvent.select().count() == 0


def test_unknown_fields_are_refused_not_silently_dropped(client, site):
    bad = order()
    bad["data"]["totl"] = "5.00"
    answer = post_events(client, site, [bad])
    assert answer.status_code == 422
    assert answer.json["rejected"][0]["fields"]["data"]["totl"] == ["Unknown field."]


def test_negative_quantities_and_bad_emails_are_refused(client, site):
    bad_quantity = order(1)
    bad_quantity["data"]["items"][0]["quantity"] = -1
    bad_email = order(2, email="not-an-email")
    answer = post_events(client, site, [bad_quantity, bad_email])
    fields = [r["fields"] for r in answer.json["rejected"]]
    assert "quantity" in fields[0]["data"]["items"]["0"]
    assert "email" in fields[1]["contact"]


def test_a_body_that_is_not_json_is_400_and_kept(client, site):
    answer = _post_raw(client, site, b"{not json")
    assert answer.status_code == 400
    assert "not JSON" in answer.json["error"]
    assert DeadLetter.get().payload == "{not json"


def test_a_body_without_an_events_list_is_422(client, site):
    answer = _post_raw(client, site, b'{"orders": []}')
    assert answer.status_code == 422
    assert answer.json["fields"] == {"events": ["Missing or not a list."]}


def test_a_signed_empty_batch_is_a_connection_check_that_stores_nothing(client, site):
    answer = _post_raw(client, site, b'{"events": []}')
    assert answer.status_code == 200 and answer.json["connected"] is True
    assert RawEvent.select().count() == 0 and DeadLetter.select().count() == 0


def test_more_than_500_events_is_413(client, site):
    answer = post_events(client, site, [order(i) for i in range(501)])
    assert answer.status_code == 413
    assert RawEvent.select().count() == 0


def test_a_body_over_5_mb_is_413(client, site):
    body = b'{"events": ["' + b"x" * (5 * 1024 * 1024) + b'"]}'
    answer = _post_raw(client, site, body)
    assert answer.status_code == 413
    assert answer.json["error"].startswith("Request body too large")


def test_an_event_that_is_not_an_object_is_rejected(client, site):
    answer = post_events(client, site, [order(), "order"])
    assert answer.json["rejected"][0]["fields"] == {
        "_schema": ["Each event must be a JSON object."]
    }


def test_an_unknown_event_type_names_the_allowed_ones(client, site):
    bad = order()
    bad["type"] = "order.exploded"
    answer = post_events(client, site, [bad])
    assert "Must be one of" in answer.json["rejected"][0]["fields"]["type"][0]


def test_an_empty_data_sent_as_php_writes_it_is_taken_as_an_empty_object(client, site):
    """json_encode(array()) is [] in PHP: the tracker's checkout-email beacon sent customer.updated
    so."""
    beacon = event("customer.updated", [], email="guest@example.com")
    answer = post_events(client, site, [beacon])
    assert answer.status_code == 202 and answer.json["accepted"] == 1, answer.json
    listed = event("customer.updated", ["not", "an", "object"], email="guest@example.com")
    assert post_events(client, site, [listed]).status_code == 422


def test_a_product_link_that_is_not_http_is_dropped_and_the_product_kept(client, site):
    product = event(
        "product.updated",
        {
            "id": 7,
            "name": "Mug",
            "url": "javascript:alert(document.cookie)",
            "image": "data:image/svg+xml,<svg onload=alert(1)>",
        },
        email=None,
    )
    renewal = event(
        "subscription.updated",
        {
            "id": 5,
            "kind": "subscription",
            "status": "active",
            "product_id": 7,
            "renewal_url": " JAVASCRIPT:alert(1)",
        },
    )
    good = event(
        "product.updated",
        {
            "id": 8,
            "name": "Cup",
            "url": "https://shop.example/cup",
            "image": "https://shop.example/cup.jpg",
        },
        email=None,
    )
    answer = post_events(client, site, [product, renewal, good])
    assert answer.status_code == 202 and answer.json["accepted"] == 3, answer.json
    run_jobs()
    stored = {p.external_id: (p.url, p.image) for p in Product.select()}
    assert stored == {
        "7": (None, None),
        "8": ("https://shop.example/cup", "https://shop.example/cup.jpg"),
    }
    assert Subscription.get().renewal_url is None
