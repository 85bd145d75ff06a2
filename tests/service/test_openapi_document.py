"""/openapi.json says what the API takes: every input it calls valid is accepted (schemathesis's
positive_data_acceptance in test_openapi_fuzz.py holds it to that; these are the exact cases it
found, one by one)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from companion.api.openapi import build_spec
from companion.flows.definitions import FLOWS
from companion.schemas.fields import Money

SPEC = build_spec()
SCHEMAS = SPEC["components"]["schemas"]


def _param(path: str, method: str, name: str) -> dict[str, Any]:
    [param] = [p for p in SPEC["paths"][path][method]["parameters"] if p["name"] == name]
    return param["schema"]


@pytest.mark.parametrize("year", ["1969", "2201", "7130"])
def test_a_time_or_day_outside_1970_to_2200_is_outside_the_document(year):
    for schema in (
        _param("/v1/sites/{site_id}/flows/{key}/report", "get", "from"),
        _param("/v1/sites/{site_id}/metrics", "get", "from"),
        SCHEMAS["OrderData"]["properties"]["paid_at"],
    ):
        assert not re.search(schema["pattern"], f"{year}-08-06T06:38:26Z")
        assert re.search(schema["pattern"], "2026-08-06T06:38:26Z")


def test_a_flow_key_outside_the_list_is_outside_the_document():
    flows = SCHEMAS["FlowsUpdate"]["properties"]["flows"]
    assert flows["additionalProperties"] is False and list(flows["properties"]) == list(FLOWS)


def test_a_step_a_flow_does_not_have_is_outside_the_document():
    """renewal_reminder has 2 steps: step 9 of it was called valid and refused with 422."""
    step = SCHEMAS["StepSettings_renewal_reminder"]["properties"]["step"]
    assert step["maximum"] == len(FLOWS["renewal_reminder"].delays_hours) == 2
    steps = SCHEMAS["FlowSettings_renewal_reminder"]["properties"]["steps"]["items"]
    assert steps == {"$ref": "#/components/schemas/StepSettings_renewal_reminder"}


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/login",
        "/dashboard/logout",
        "/dashboard/logout/everywhere",
        "/dashboard/{site_id}/flows/{flow_key}/edit",
    ],
)
def test_a_dashboard_form_without_its_csrf_token_is_outside_the_document(path):
    body = SPEC["paths"][path]["post"]["requestBody"]
    form = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert body["required"] is True and form["required"] == ["csrf_token"]


def test_an_events_data_is_the_schema_of_its_type():
    branches = {b["$ref"].rsplit("/", 1)[1] for b in SCHEMAS["Event"]["oneOf"]}
    assert len(branches) == 12
    deleted = SCHEMAS["Event_order_refund_deleted"]["properties"]["data"]
    assert deleted == {"$ref": "#/components/schemas/RefundDeletedData"}
    assert sorted(SCHEMAS["RefundDeletedData"]["required"]) == ["order_id", "refund_id"]
    listed = SCHEMAS["Event_order_refunds_listed"]["properties"]["data"]
    assert listed == {"$ref": "#/components/schemas/RefundsListedData"}
    assert sorted(SCHEMAS["RefundsListedData"]["required"]) == ["order_id", "refund_ids"]
    page_view = SCHEMAS["Event_page_viewed"]
    assert page_view["properties"]["type"]["enum"] == ["page.viewed"]
    assert page_view["properties"]["data"] == {"$ref": "#/components/schemas/PageViewedData"}
    assert "url" in SCHEMAS["PageViewedData"]["required"]
    customer = SCHEMAS["Event_customer_updated"]
    assert "contact" in customer["required"]
    assert SCHEMAS["ContactWithEmail"]["required"] == ["email"]


def test_a_nested_object_that_may_be_null_is_that_object_or_null_not_any_object():
    assert SCHEMAS["Event_order_updated"]["properties"]["contact"] == {
        "$ref": "#/components/schemas/Contact",
        "nullable": True,
    }
    assert SCHEMAS["FlowSettings"]["properties"]["coupon"] == {
        "$ref": "#/components/schemas/Coupon",
        "nullable": True,
    }


def test_money_ids_and_booleans_say_every_form_the_code_takes():
    total = SCHEMAS["OrderData"]["properties"]["total"]["oneOf"]
    assert re.search(total[0]["pattern"], "19.90") and not re.search(total[0]["pattern"], "-1")
    assert total[1]["type"] == "integer"
    assert {b["type"] for b in SCHEMAS["OrderData"]["properties"]["id"]["oneOf"]} == {
        "string",
        "integer",
    }
    products = SCHEMAS["ProductChoice"]["properties"]["products"]["items"]["oneOf"]
    assert {b["type"] for b in products} == {"string", "integer"}
    consent = SCHEMAS["ConsentData"]["properties"]["marketing_consent"]
    assert {"type": "integer", "enum": [0, 1]} in consent["oneOf"] and consent["nullable"]


def test_a_privacy_request_and_a_flow_settings_change_need_their_body():
    for route in ("export", "erase"):
        assert SPEC["paths"][f"/v1/sites/{{site_id}}/privacy/{route}"]["post"]["requestBody"][
            "required"
        ]
    assert SPEC["paths"]["/v1/sites/{site_id}/flows"]["put"]["requestBody"]["required"]


def test_an_early_access_link_is_an_http_address():
    url = SCHEMAS["FlowSettings"]["properties"]["early_access_url"]
    assert re.search(url["pattern"], "https://shop.example/early")
    assert not re.search(url["pattern"], "") and not re.search(url["pattern"], "javascript:x")


def test_money_in_digits_other_than_0_to_9_is_refused_as_the_document_says():
    """Python's \\d took Arabic-Indic digits ("١٩.٩٠"); the document's [0-9] does not."""
    with pytest.raises(ValidationError):
        Money().deserialize("١٩.٩٠")
    assert Money().deserialize(" 19.90 ") == Decimal("19.90")


def test_quiet_hours_outside_hh_mm_are_outside_the_document():
    """{"start": "", "end": ""} was called valid and refused with 422."""
    start = SCHEMAS["QuietHours"]["properties"]["start"]
    assert not re.search(start["pattern"], "") and re.search(start["pattern"], "21:00")


@pytest.mark.parametrize(
    "path, field",
    [
        ("/dashboard/{site_id}/flows/{flow_key}/steps/{step}/keep", "variant"),
        ("/dashboard/{site_id}/flows/{flow_key}/backlog", "days"),
    ],
)
def test_the_ab_and_backlog_forms_need_their_csrf_token_and_their_field(path, field):
    """Added with the A/B test and the backlog button without a body in the document: a POST with
    nothing was called valid and answered 400."""
    body = SPEC["paths"][path]["post"]["requestBody"]
    form = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert body["required"] is True and form["required"] == ["csrf_token", field]


def test_the_backlogs_days_are_one_to_365_in_the_document_too():
    days = SPEC["paths"]["/dashboard/{site_id}/flows/{flow_key}/backlog"]["post"]["requestBody"]
    pattern = days["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]["days"]
    assert all(re.search(pattern["pattern"], str(n)) for n in range(1, 366))
    assert not any(re.search(pattern["pattern"], text) for text in ("0", "366", "1.5", "", "x"))


def test_a_static_coupon_needs_its_code_and_a_unique_one_its_discount_in_the_document():
    """A static coupon with a null code was called valid and refused with 422."""
    static, unique = SCHEMAS["Coupon_static"], SCHEMAS["Coupon_unique"]
    assert SCHEMAS["Coupon"]["oneOf"] == [
        {"$ref": "#/components/schemas/Coupon_static"},
        {"$ref": "#/components/schemas/Coupon_unique"},
    ]
    assert static["required"] == ["code"] and "nullable" not in static["properties"]["code"]
    assert unique["required"] == ["kind", "discount_type", "amount", "days_valid"]
    assert unique["properties"]["kind"]["enum"] == ["unique"]
