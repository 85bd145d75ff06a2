"""POST /v1/sites/<id>/privacy/export: everything stored about one person, and nothing else."""

from __future__ import annotations

import json

from tests.helpers import bearer
from tests.privacy.world import ANN


def _export(client, new_site, email=ANN, headers=None):
    return client.post(
        f"/v1/sites/{new_site.site.public_id}/privacy/export",
        json={"email": email},
        headers=bearer(new_site) if headers is None else headers,
    )


def test_the_export_holds_the_persons_orders_refunds_carts_views_visits_and_mail(
    client, site, world
):
    answer = _export(client, site, email="  Ann@Example.com ")
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["contact"]["email"] == ANN and data["contact"]["first_name"] == "Ann"
    assert (
        data["contact"]["phone"] == "+49 30 1234567" and data["contact"]["total_spent"] == "59.80"
    )
    [order] = data["orders"]
    assert (order["id"], order["total"], order["refunded"]) == ("100", "59.80", "10.00")
    assert [i["name"] for i in order["items"]] == ["Mug"]
    assert [(r["amount"], r["reason"]) for r in order["refunds"]] == [("10.00", "broken")]
    assert [c["token"] for c in data["carts"]] == ["cart-ann"]
    assert data["carts"][0]["checkout_url"] == "https://shop.example/checkout"
    assert [v["product_id"] for v in data["product_views"]] == ["7"]
    assert [v["session_key"] for v in data["visits"]] == ["s-ann"]
    assert {m["to_email"] for m in data["messages"]} == {ANN}
    assert data["messages"][0]["subject"] == "Thank you for your order 100"
    assert [(s["email"], s["reason"]) for s in data["suppressions"]] == [(ANN, "unsubscribed")]
    assert order["created_at"].endswith("+00:00")


def test_the_export_shows_nothing_of_another_customer_or_another_site(client, site, world):
    text = json.dumps(_export(client, site).get_json())
    assert "bob@example.com" not in text and '"200"' not in text and "Cup" not in text
    assert '"300"' not in text  # Ann's order at the other site


def test_an_unknown_email_exports_as_empty_lists_not_404(client, site, world):
    answer = _export(client, site, email="nobody@example.com")
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["contact"] is None
    assert all(
        data[kind] == []
        for kind in (
            "orders",
            "carts",
            "product_views",
            "visits",
            "subscriptions",
            "messages",
            "suppressions",
            "email_touches",
        )
    )


def test_another_sites_token_and_no_token_get_401(client, site, other_site, world):
    assert _export(client, site, headers=bearer(other_site)).status_code == 401
    assert _export(client, site, headers={}).status_code == 401


def test_a_bad_email_or_a_missing_one_is_refused_with_422(client, site):
    assert _export(client, site, email="not-an-address").status_code == 422
    answer = client.post(
        f"/v1/sites/{site.site.public_id}/privacy/export", json={}, headers=bearer(site)
    )
    assert answer.status_code == 422 and "email" in answer.get_json()["fields"]
    answer = client.post(
        f"/v1/sites/{site.site.public_id}/privacy/export", json=[ANN], headers=bearer(site)
    )
    assert answer.status_code == 422


def test_the_routes_are_documented_in_openapi(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "post" in paths["/v1/sites/{site_id}/privacy/export"]
    assert "post" in paths["/v1/sites/{site_id}/privacy/erase"]
