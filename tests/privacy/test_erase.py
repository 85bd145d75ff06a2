"""POST /v1/sites/<id>/privacy/erase: the person's data goes everywhere; the shop's figures stay."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companion import pipeline
from companion.ingest import receive
from companion.metrics.rebuild import ROLLUPS, rebuild_site
from companion.models import Cart, Contact, Message, Order, RawEvent, Suppression
from tests import factories as f
from tests.flows.store import T0, iso
from tests.helpers import bearer
from tests.privacy.world import ANN, BOB, rows_mentioning

NOW = datetime(2026, 12, 1, 12, 0)


def _erase(client, new_site, email=ANN, headers=None):
    return client.post(
        f"/v1/sites/{new_site.site.public_id}/privacy/erase",
        json={"email": email},
        headers=bearer(new_site) if headers is None else headers,
    )


def rollups(site_id: int) -> dict[str, list[tuple[Any, ...]]]:
    snapshot = {}
    for model in ROLLUPS:
        names = [f for f in model._meta.sorted_fields if f.name != "id"]
        snapshot[model.__name__] = sorted(
            tuple(str(v) for v in row)
            for row in model.select(*names).where(model.site == site_id).tuples()
        )
    return snapshot


def test_the_address_is_left_in_no_text_column_of_any_table_of_the_site(
    client, site, other_site, world
):
    assert {s for (_, _, s) in rows_mentioning(ANN)} >= {site.site.id, other_site.site.id}
    assert _erase(client, site).status_code == 200
    assert {s for (_, _, s) in rows_mentioning(ANN)} == {other_site.site.id}
    assert rows_mentioning("+49 30 1234567") == []


def test_the_answer_counts_what_was_erased_per_kind(client, site, world):
    answer = _erase(client, site).get_json()
    erased = answer["erased"]
    assert (erased["contacts"], erased["orders"], erased["carts"], erased["suppressions"]) == (
        1,
        1,
        1,
        1,
    )
    assert erased["messages"] == 1 and erased["raw_events"] == 4 and erased["visits"] == 1
    assert erased["product_views"] == 1 and answer["total"] == sum(erased.values())


def test_orders_stay_with_their_totals_items_and_refunds_on_an_anonymous_contact(
    client, site, world
):
    before = Contact.get(Contact.email == ANN, Contact.site == site.site.id)
    _erase(client, site)
    after = Contact.get_by_id(before.id)
    assert after.erased_at is not None and after.email.endswith("@erased.invalid")
    assert (after.first_name, after.last_name, after.phone) == (None, None, None)
    assert (after.orders_count, after.total_spent, after.refunded) == (
        1,
        before.total_spent,
        before.refunded,
    )
    order = Order.get(Order.external_id == "100", Order.site == site.site.id)
    assert (order.contact_id, str(order.total), str(order.refunded_total)) == (
        before.id,
        "59.8000",
        "10.0000",
    )
    assert [i.name for i in order.items] == ["Mug"]
    cart = Cart.get(Cart.token == "cart-ann")
    assert (cart.contact_id, cart.checkout_url, len(cart.items)) == (None, None, 1)


def test_rollups_and_a_rebuild_from_the_raw_tables_give_the_same_figures_after_an_erase(
    client, site, world
):
    rebuild_site(site.site, now=NOW)
    before = rollups(site.site.id)
    _erase(client, site)
    assert rollups(site.site.id) == before
    rebuild_site(site.site, now=NOW)
    assert rollups(site.site.id) == before
    assert (
        RawEvent.select()
        .where(RawEvent.site == site.site.id, RawEvent.processed_at.is_null())
        .count()
        == 0
    )


def test_messages_keep_status_and_subject_but_lose_address_and_body(client, site, world):
    [ann_mail] = [m for m in world.messages() if m.to_email == ANN]
    _erase(client, site)
    mail = Message.get_by_id(ann_mail.id)
    assert (mail.status, mail.subject, mail.flow_key) == (
        ann_mail.status,
        ann_mail.subject,
        "post_purchase",
    )
    assert mail.to_name is None and mail.body.html == "" and mail.body.text == ""
    assert [m.to_email for m in world.messages() if m.id != ann_mail.id] == [BOB]


def test_a_second_erase_is_a_no_op(client, site, world):
    _erase(client, site)
    answer = _erase(client, site).get_json()
    assert answer["total"] == 0 and set(answer["erased"].values()) == {0}


def test_after_an_erase_the_export_is_empty(client, site, world):
    _erase(client, site)
    data = client.post(
        f"/v1/sites/{site.site.public_id}/privacy/export", json={"email": ANN}, headers=bearer(site)
    ).get_json()
    assert data["contact"] is None and data["orders"] == [] and data["messages"] == []
    assert data["suppressions"] == []


def test_the_other_sites_data_about_the_same_person_stays(client, site, other_site, world):
    _erase(client, site)
    assert Contact.get(Contact.site == other_site.site.id).email == ANN


def _new_mail(world, email: str, since: datetime) -> list[tuple[str, int]]:
    return [
        (m.flow_key, m.step)
        for m in world.messages()
        if m.to_email == email and m.created_at > since
    ]


def test_an_erased_unsubscriber_who_orders_again_is_still_not_mailed(client, site, world):
    _erase(client, site)
    assert Suppression.select().where(Suppression.email == ANN).count() == 0
    later = T0 + timedelta(days=30)
    world.send([f.order(101, modified=iso(later), created=iso(later), paid=iso(later))], later)
    world.tick(later + timedelta(hours=2))
    assert Suppression.get(Suppression.email == ANN).reason == "unsubscribed"
    assert _new_mail(world, ANN, later) == []
    assert Contact.get(Contact.email == ANN, Contact.site == site.site.id).first_name == "Ann"


def test_a_person_who_never_unsubscribed_and_comes_back_is_mailed_as_new(client, site, world):
    _erase(client, site, email=BOB)
    later = T0 + timedelta(days=30)
    world.send(
        [f.order(201, modified=iso(later), created=iso(later), paid=iso(later), email=BOB)], later
    )
    world.tick(later + timedelta(hours=2))
    assert ("post_purchase", 1) in _new_mail(world, BOB, later)


def test_another_sites_token_gets_401_and_erases_nothing(client, site, other_site, world):
    assert _erase(client, site, headers=bearer(other_site)).status_code == 401
    assert _erase(client, site, email="bad").status_code == 422
    assert Contact.select().where(Contact.email == ANN, Contact.site == site.site.id).exists()


def test_events_stored_but_not_yet_applied_bring_no_trace_back_when_they_are(
    client, site, settings
):
    at = iso(T0)
    stored = receive.store_batch(
        site.site, [f.order(500, modified=at, created=at, paid=at, email="cy@example.com")], T0
    )
    assert _erase(client, site, email="cy@example.com").get_json()["erased"]["raw_events"] == 1
    pipeline.process_events(stored.accepted_ids, now=T0)
    assert rows_mentioning("cy@example.com") == []
    order = Order.get(Order.external_id == "500")
    assert order.contact.erased_at is not None and order.contact.first_name is None
    assert not Contact.select().where(Contact.erased_at.is_null()).exists()


def test_a_subject_that_named_the_person_keeps_no_name(client, site, world):
    """Subjects are kept for the reports, but some greet the person ("How do you like your order,
    Ann?"): the names in them go with the rest."""
    world.run(T0 + timedelta(hours=12), T0 + timedelta(days=20), every=timedelta(hours=12))
    bobs = {m.id: m.subject for m in world.messages() if m.to_email == BOB}
    anns = {m.id: m.subject for m in world.messages() if m.to_email != BOB}
    assert any("Ann" in subject for subject in bobs.values()), (
        bobs
    )  # the factory names everyone Ann Lee
    _erase(client, site, email=BOB)
    after = {m.id: m.subject for m in Message.select().where(Message.id.in_(list(bobs)))}
    assert after == {i: s.replace("Ann", "[erased]") for i, s in bobs.items()}
    assert {m.id: m.subject for m in world.messages() if m.id in anns} == anns
