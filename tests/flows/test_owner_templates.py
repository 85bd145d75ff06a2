"""The owner's subject lines and blocks: checked on save against a sample of what the step is
given, and one that fails anyway when sent fails that message only."""

from __future__ import annotations

from datetime import timedelta

from companion.flows.config import save_changes
from companion.models import ScheduledStep
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer

HOUR = timedelta(hours=1)


def _put(client, site, tail, change):
    return client.put(f"/v1/sites/{site.site.public_id}/{tail}", json=change, headers=bearer(site))


def test_a_template_that_cannot_render_for_its_step_is_refused_naming_the_field(client, site):
    answer = _put(
        client,
        site,
        "flows/abandoned_cart",
        {"steps": [{"step": 2, "subject": "{{ cart.items|length }} items"}]},
    )
    assert answer.status_code == 422, answer.json
    assert list(answer.json["fields"]["steps"]["0"]) == ["subject"]
    answer = _put(
        client,
        site,
        "flows/abandoned_cart",
        {
            "steps": [
                {"step": 1, "subject": "Your cart"},
                {"step": 3, "intro": "Hi {{ contact.frist_name }}"},
            ]
        },
    )
    assert answer.status_code == 422, answer.json
    assert list(answer.json["fields"]["steps"]) == ["1"] and "frist_name" in str(
        answer.json["fields"]["steps"]["1"]["intro"]
    )
    answer = _put(
        client,
        site,
        "flows",
        {"flows": {"win_back": {"steps": [{"step": 1, "outro": "{{ order.total }}"}]}}},
    )
    assert answer.status_code == 422, answer.json
    assert list(answer.json["fields"]["flows"]["win_back"]["steps"]["0"]) == ["outro"]
    steps = client.get(
        f"/v1/sites/{site.site.public_id}/flows/abandoned_cart", headers=bearer(site)
    ).json["steps"]
    assert [(s["subject"], s["intro"]) for s in steps] == [(None, None)] * 3  # nothing saved


def test_templates_that_use_what_their_step_is_given_are_accepted(client, site):
    answer = _put(
        client,
        site,
        "flows/abandoned_cart",
        {
            "steps": [
                {
                    "step": 1,
                    "subject": "{{ contact.first_name or 'Hi' }}, {{ cart['items']|length }} items "
                    "wait",
                },
                {
                    "step": 3,
                    "intro": "Use {{ coupon.code }} for {{ cart.value|money(currency) }} at {{ "
                    "shop.name }}.",
                },
            ]
        },
    )
    assert answer.status_code == 200, answer.json
    assert (
        _put(
            client,
            site,
            "flows/renewal_reminder",
            {
                "steps": [
                    {
                        "step": 1,
                        "subject": "{{ subscription.product_name }} ends {{ "
                        "subscription.expires_at }}",
                    }
                ]
            },
        ).status_code
        == 200
    )


def test_one_message_that_fails_to_render_fails_alone_and_the_rest_of_the_batch_is_sent(
    store, sendgrid
):
    # stored before templates were checked on save
    save_changes(
        store.site, "abandoned_cart", {"steps": {"1": {"subject": "{{ cart.items|length }} items"}}}
    )
    store.send(
        [
            f.cart("c1", at=iso(T0), email="bob@example.com"),
            f.order(1, modified=iso(T0), created=iso(T0), paid=iso(T0), email="ann@example.com"),
        ],
        T0,
    )
    store.tick(T0 + HOUR, transport=sendgrid)
    [thanks] = store.messages()
    assert (thanks.flow_key, thanks.to_email, thanks.status) == (
        "post_purchase",
        "ann@example.com",
        "sent",
    )
    [cart_step] = [s for s in store.steps("abandoned_cart") if s.step == 1]
    assert cart_step.status == "failed" and "TypeError" in cart_step.outcome
    assert ScheduledStep.select().where(ScheduledStep.status == "claimed").count() == 0
    store.tick(T0 + 25 * HOUR, transport=sendgrid)  # the enrolment goes on with its next step
    assert [(m.flow_key, m.step) for m in store.messages("abandoned_cart")] == [
        ("abandoned_cart", 2)
    ]
