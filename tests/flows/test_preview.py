"""POST /v1/sites/<id>/flows/<key>/preview: a step as it would go to a contact now, recording
nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from companion.flows.preview import render_step
from companion.models import Contact, Enrolment, Message
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR = timedelta(hours=1)
URL = re.compile(r"https?://[^\s\"'<>]+")


def _preview(client, site, key, body):
    return client.post(
        f"/v1/sites/{site.site.public_id}/flows/{key}/preview", json=body, headers=bearer(site)
    )


def _without_links(text):
    return URL.sub("<link>", text)


def test_the_preview_is_the_mail_the_contact_then_gets_but_for_its_tracked_links(
    client, site, store, settings
):
    client.put(
        f"/v1/sites/{site.site.public_id}/flows/abandoned_cart",
        headers=bearer(site),
        json={
            "steps": [
                {
                    "step": 1,
                    "subject": "{{ contact.first_name }}, your {{ cart['items']|length }} item",
                    "intro": "We kept it for you.",
                }
            ]
        },
    )
    store.send(
        [f.cart("c1", at=iso(T0)), f.event("customer.updated", {}, at=iso(T0), first_name="Ann")],
        T0,
    )
    contact = Contact.get(Contact.site == store.site.id, Contact.email == "ann@example.com")
    shown = render_step(store.site, "abandoned_cart", 1, contact, T0 + HOUR, settings.public_url)
    store.tick(T0 + HOUR)
    [sent] = store.messages("abandoned_cart")
    assert shown.subject == sent.subject == "Ann, your 1 item"
    assert _without_links(shown.text) == _without_links(sent.body.text)
    assert "We kept it for you." in shown.html and "/t/c/" not in shown.html + shown.text
    assert (
        "https://shop.example/checkout?sc_recover=" in shown.text
    )  # where the shopper's link leads


def test_a_transactional_steps_preview_has_the_footer_its_sent_mail_has(
    client, site, store, settings
):
    """The thank-you's preview showed no unsubscribe link while the mail sent had one."""
    paid = iso(T0)
    store.send([f.order(1, modified=paid, created=paid, paid=paid, email="ann@example.com")], T0)
    contact = Contact.get(Contact.site == store.site.id, Contact.email == "ann@example.com")
    shown = render_step(store.site, "post_purchase", 1, contact, T0 + HOUR, settings.public_url)
    store.tick(T0 + HOUR)
    [sent] = store.messages("post_purchase")
    assert _without_links(shown.text) == _without_links(sent.body.text)
    assert "Unsubscribe from marketing emails (mails about" in shown.text


def test_it_answers_subject_html_and_text_for_a_contact_of_the_site(client, site, store):
    store.send([f.cart("c1", at=iso(T0), email="bob@example.com")], T0)
    answer = _preview(client, site, "abandoned_cart", {"email": "Bob@Example.com", "step": 2})
    assert answer.status_code == 200, answer.json
    assert set(answer.json) == {"subject", "html", "text", "sample_values"}
    assert answer.json["sample_values"] is None  # Bob's own mail
    assert answer.json["subject"] == "Your cart is still waiting"
    assert "Mug" in answer.json["text"] and answer.json["html"].lstrip().lower().startswith(
        "<!doctype html"
    )


def test_it_records_nothing(client, site, store):
    store.send([f.cart("c1", at=iso(T0))], T0)
    assert (
        _preview(
            client, site, "abandoned_cart", {"email": "ann@example.com", "step": 1}
        ).status_code
        == 200
    )
    assert Message.select().count() == 0 and Enrolment.select().count() == 0


def test_without_an_email_it_shows_a_contact_of_the_store(client, site, store):
    store.send(
        [f.order(1, email="cleo@example.com", modified=iso(T0), created=iso(T0), paid=iso(T0))], T0
    )
    answer = _preview(client, site, "post_purchase", {"step": 1})
    assert answer.status_code == 200, answer.json
    assert answer.json["subject"] == "Thank you for your order 1" and "Ann" in answer.json["text"]


def test_an_empty_store_gets_sample_values_with_its_own_name(client, site):
    answer = _preview(client, site, "replenishment", {"step": 1})
    assert answer.status_code == 200, answer.json
    assert (
        answer.json["subject"] == "Time to restock Coffee beans?" and "Shop" in answer.json["text"]
    )
    assert answer.json["sample_values"] == (
        "Sample values: no customer of your store has placed an order yet, so the names, products "
        "and amounts here are made up. Once one has, this preview shows their mail."
    )


def test_made_up_values_say_what_the_flow_waits_for_and_a_customers_mail_says_nothing(
    client, site, store
):
    renewal = _preview(client, site, "renewal_reminder", {"step": 1}).json
    assert "Pro plugin" in renewal["text"]  # the built-in sample licence, not the store's
    assert "has a subscription or licence with an expiry date yet" in renewal["sample_values"]
    cart = _preview(client, site, "abandoned_cart", {"step": 1}).json
    assert "has left a cart with their email yet" in cart["sample_values"]

    store.send([f.cart("c1", at=iso(T0))], T0)

    assert _preview(client, site, "abandoned_cart", {"step": 1}).json["sample_values"] is None
    assert _preview(client, site, "renewal_reminder", {"step": 1}).json["sample_values"]


def test_another_sites_contact_is_404(client, site, other_site, other_store):
    other_store.send([f.cart("c1", at=iso(T0), email="zoe@example.com")], T0)
    answer = _preview(client, site, "abandoned_cart", {"email": "zoe@example.com", "step": 1})
    assert answer.status_code == 404 and answer.json["error"] == "No such contact on this site."
    assert (
        _preview(
            client, other_site, "abandoned_cart", {"email": "zoe@example.com", "step": 1}
        ).status_code
        == 200
    )


def test_a_bad_step_is_422_naming_the_field(client, site):
    for step, expected in (
        (4, "abandoned_cart has steps 1 to 3, not 4."),
        (0, None),
        ("one", None),
    ):
        answer = _preview(client, site, "abandoned_cart", {"step": step})
        assert answer.status_code == 422, step
        assert list(answer.json["fields"]) == ["step"]
        assert expected is None or answer.json["fields"]["step"] == [expected]
    assert _preview(client, site, "abandoned_cart", {}).json["fields"] == {
        "step": ["Missing data for required field."]
    }


def test_a_contact_the_flow_has_nothing_for_is_422_saying_why(client, site, store):
    store.send([f.event("customer.updated", {}, email="dan@example.com", at=iso(T0))], T0)
    answer = _preview(client, site, "abandoned_cart", {"email": "dan@example.com", "step": 1})
    assert answer.status_code == 422
    assert answer.json["fields"] == {
        "email": ["This contact has no cart with items: this flow has nothing to remind them of."]
    }


def test_an_unknown_flow_is_404(client, site):
    assert _preview(client, site, "nope", {"step": 1}).status_code == 404


def test_it_is_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert "post" in paths["/v1/sites/{site_id}/flows/{key}/preview"]
    assert "post" in paths["/v1/sites/{site_id}/flows/{key}/test"]
