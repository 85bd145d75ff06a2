"""Editing a flow in the dashboard: a form, the API's validation, and the step's preview beside
it."""

from __future__ import annotations

import re
from html import unescape

from companion.flows.config import describe, update_flows
from tests.dashboard.session import csrf_of, sign_in
from tests.helpers import bearer


def _edit(shop, key="abandoned_cart"):
    return f"/dashboard/{shop.site.public_id}/flows/{key}/edit"


def _form(shop, client, key="abandoned_cart", **changes):
    """The form as the page fills it, with `changes` typed over it (checkboxes: True/False)."""
    page = client.get(_edit(shop, key)).get_data(as_text=True)
    data = {
        name: unescape(value)
        for name, value in re.findall(
            r'<input type="(?:text|number|url)" id="[^"]+" name="([^"]+)" value="([^"]*)"', page
        )
    }
    data.update(
        {
            name: unescape(value)
            for name, value in re.findall(
                r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page
            )
        }
    )
    data.update(
        {name: "on" for name in re.findall(r'<input type="checkbox" name="([^"]+)" checked>', page)}
    )
    for name, options in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.DOTALL
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = unescape(chosen.group(1)) if chosen else "none"
    data["csrf_token"] = csrf_of(client, _edit(shop, key))
    for name, value in changes.items():
        name = name.replace("__", ".")
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def test_the_flows_page_links_each_flow_to_its_form(client, shop):
    sign_in(client, shop)
    html = client.get(f"/dashboard/{shop.site.public_id}/flows").get_data(as_text=True)
    assert f'href="/dashboard/{shop.site.public_id}/flows/win_back/edit"' in html


def test_the_form_shows_each_step_with_the_preview_beside_it(client, shop):
    sign_in(client, shop)
    html = client.get(_edit(shop)).get_data(as_text=True)
    assert html.count('<fieldset class="step"') == 3
    assert 'placeholder="You left something in your cart"' in html  # the default subject
    assert f'src="/dashboard/{shop.site.public_id}/flows/abandoned_cart/preview?step=1"' in html
    frame = client.get(f"/dashboard/{shop.site.public_id}/flows/abandoned_cart/preview?step=2")
    assert frame.status_code == 200
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    body = frame.get_data(as_text=True)
    assert "Your cart is still waiting" in body and "/t/c/" not in body


def test_a_preview_of_made_up_values_says_so_above_the_mail(client, shop):
    """The shop has carts but no subscription: the renewal mail can only be shown with the built-in
    sample licence, and the owner is told that and what the flow waits for."""
    sign_in(client, shop)
    base = f"/dashboard/{shop.site.public_id}/flows"
    renewal = client.get(f"{base}/renewal_reminder/preview?step=1").get_data(as_text=True)
    assert "Pro plugin" in renewal
    assert '<p id="sample-values"' in renewal
    assert "no customer of your store has a subscription or licence with an expiry date" in renewal
    cart = client.get(f"{base}/abandoned_cart/preview?step=2").get_data(as_text=True)
    assert "Your cart is still waiting" in cart and 'id="sample-values"' not in cart


def test_saving_the_form_changes_what_the_api_answers(client, shop):
    sign_in(client, shop)
    data = _form(
        shop,
        client,
        steps__0__delay_hours="3",
        steps__0__subject="{{ contact.first_name }}, still there?",
        steps__2__enabled=False,
        coupon__kind="static",
        coupon__code="COMEBACK10",
        coupon__description="10% off today",
        conditions__min_value="20.00",
    )
    answer = client.post(_edit(shop), data=data)
    assert answer.status_code == 303
    flow = client.get(
        f"/v1/sites/{shop.site.public_id}/flows/abandoned_cart", headers=bearer(shop)
    ).json
    assert [s["delay_hours"] for s in flow["steps"]] == [3, 24, 72]
    assert flow["steps"][0]["subject"] == "{{ contact.first_name }}, still there?"
    assert [s["enabled"] for s in flow["steps"]] == [True, True, False]
    assert flow["coupon"] == {
        "kind": "static",
        "code": "COMEBACK10",
        "description": "10% off today",
    }
    assert flow["conditions"]["min_value"] == "20.00"
    assert "Saved." in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_a_bad_template_gets_the_apis_message_on_its_field_and_nothing_is_saved(client, shop):
    sign_in(client, shop)
    bad = "Hi {{ contact.frist_name }}"
    api = client.put(
        f"/v1/sites/{shop.site.public_id}/flows/abandoned_cart",
        headers=bearer(shop),
        json={"steps": [{"step": 2, "intro": bad}]},
    ).json["fields"]["steps"]["0"]["intro"]
    answer = client.post(
        _edit(shop), data=_form(shop, client, steps__1__intro=bad, steps__0__delay_hours="5")
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    field = html[html.index('name="steps.1.intro"') - 200 :]
    assert 'aria-invalid="true"' in field[:400]
    assert (
        unescape(
            re.search(
                r'<span class="field-error" id="err-steps-1-intro">([^<]*)</span>', html
            ).group(1)
        )
        == api[0]
    )
    assert bad in unescape(html)  # what the owner typed is still there to fix
    assert describe(shop.site, "abandoned_cart")["steps"][0]["delay_hours"] == 1


def test_a_bad_delay_or_coupon_is_refused_as_the_api_refuses_it(client, shop):
    sign_in(client, shop)
    answer = client.post(
        _edit(shop),
        data=_form(shop, client, steps__0__delay_hours="soon", conditions__min_value="a lot"),
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="err-steps-0-delay_hours">Not a valid number.' in html
    assert 'id="err-conditions-min_value">' in html


def test_the_preview_shows_what_is_typed_before_it_is_saved(client, shop):
    sign_in(client, shop)
    data = _form(
        shop, client, steps__1__subject="Draft subject for {{ shop.name }}", preview_step="2"
    )
    frame = client.post(f"/dashboard/{shop.site.public_id}/flows/abandoned_cart/preview", data=data)
    assert frame.status_code == 200
    assert '<span id="subject">Draft subject for Shop</span>' in frame.get_data(as_text=True)
    assert describe(shop.site, "abandoned_cart")["steps"][1]["subject"] is None


def test_the_form_needs_its_csrf_token_and_the_sites_own_session(client, shop, other_site):
    sign_in(client, shop)
    data = _form(shop, client)
    data.pop("csrf_token")
    assert client.post(_edit(shop), data=data).status_code == 400
    assert client.get(_edit(shop, "no_such_flow")).status_code == 404
    assert client.get(_edit(other_site)).status_code == 404  # signed in to another store
    assert (
        client.get(f"/dashboard/{other_site.site.public_id}/flows/vip/preview").status_code == 404
    )


def test_a_step_that_offers_a_coupon_says_it_waits_for_one_and_a_missing_address_is_flagged(
    client, shop
):
    sign_in(client, shop)
    html = client.get(_edit(shop, "win_back")).get_data(as_text=True)
    assert 'data-needs="coupon"' in html and 'data-missing="postal_address"' in html
    client.post(
        _edit(shop, "win_back"),
        data=_form(shop, client, "win_back", coupon__kind="static", coupon__code="BACK10"),
    )
    update_flows(shop.site, {"settings": {"postal_address": "1 Harbour Street, Bristol"}})
    html = client.get(_edit(shop, "win_back")).get_data(as_text=True)
    assert "data-needs" not in html and "data-missing" not in html


def test_a_single_use_coupon_is_set_without_json_and_checked_as_the_api_checks_it(client, shop):
    sign_in(client, shop)
    html = client.get(_edit(shop, "win_back")).get_data(as_text=True)
    assert '<option value="none" selected>' in html
    bad = client.post(
        _edit(shop, "win_back"),
        data=_form(
            shop,
            client,
            "win_back",
            coupon__kind="unique",
            coupon__amount="120",
            coupon__days_valid="7",
        ),
    )
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert 'id="err-coupon-amount">A percentage is at most 100.' in page
    assert describe(shop.site, "win_back")["coupon"] is None
    good = client.post(
        _edit(shop, "win_back"),
        data=_form(
            shop,
            client,
            "win_back",
            coupon__kind="unique",
            coupon__discount_type="fixed_cart",
            coupon__amount="5.00",
            coupon__days_valid="14",
            coupon__minimum_amount="40.00",
            coupon__individual_use=False,
        ),
    )
    assert good.status_code == 303
    assert describe(shop.site, "win_back")["coupon"] == {
        "kind": "unique",
        "discount_type": "fixed_cart",
        "amount": "5.00",
        "days_valid": 14,
        "minimum_amount": "40.00",
        "individual_use": False,
        "prefix": "SC",
    }
    again = client.get(_edit(shop, "win_back")).get_data(as_text=True)
    assert '<option value="unique" selected>' in again
    assert '<option value="fixed_cart" selected>' in again and 'value="5.00"' in again
    frame = client.get(f"/dashboard/{shop.site.public_id}/flows/win_back/preview?step=2")
    body = frame.get_data(as_text=True)
    assert "SC-XXXXXXXXXXXX" in body and "€5.00 off orders of €40.00 or more, valid until" in body


def test_a_superscript_or_foreign_digit_in_a_number_field_is_a_422_not_a_500(client, shop):
    """'²'.isdigit() is true and int('²') fails: days and the preview's step are read as whole
    numbers of ASCII digits (companion.core.numbers), so the field says what is wrong instead."""
    sign_in(client, shop)
    bad = client.post(
        _edit(shop, "win_back"),
        data=_form(
            shop,
            client,
            "win_back",
            coupon__kind="unique",
            coupon__discount_type="fixed_cart",
            coupon__amount="5.00",
            coupon__days_valid="1²",
        ),
    )
    assert bad.status_code == 422
    assert 'id="err-coupon-days_valid"' in bad.get_data(as_text=True)
    assert client.get(_edit(shop) + "?step=%C2%B2").status_code == 200
