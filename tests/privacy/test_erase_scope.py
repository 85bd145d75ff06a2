"""An erase touches one person: found by exact address, scrubbed from free text only where the
address stands whole, never inside another address, never in the shop's settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companion.models import (
    Contact,
    Enrolment,
    FlowSetting,
    Message,
    RawEvent,
    Refund,
    Suppression,
    Visit,
)
from tests import factories as f
from tests.flows.store import T0, Store, iso
from tests.helpers import all_models, bearer

UMAR, ANN7, JOANN7 = "umar.novak354@example.com", "ann7@example.com", "joann7@example.com"


def _erase(client: Any, new_site: Any, email: str) -> dict[str, Any]:
    answer = client.post(
        f"/v1/sites/{new_site.site.public_id}/privacy/erase",
        json={"email": email},
        headers=bearer(new_site),
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def site_rows(site_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every per-site table, column by column, in id order."""
    snapshot = {}
    for model in all_models():
        if "site" not in model._meta.fields:
            continue
        key = model._meta.primary_key
        snapshot[model._meta.table_name] = [
            tuple(row) for row in model.select().where(model.site == site_id).order_by(key).tuples()
        ]
    return snapshot


def rows_holding(site_id: int, text: str) -> list[tuple[str, tuple[Any, ...]]]:
    """(table, whole row) of every row of the site that holds the text anywhere."""
    return [
        (table, row)
        for table, rows in site_rows(site_id).items()
        for row in rows
        if any(isinstance(v, str) and text in v.lower() for v in row)
    ]


def _history(store: Store, email: str, order_id: int, at: datetime, reason: str) -> None:
    """A visit with the address in its landing URL, an order, its mail, then a refund whose reason
    the customer wrote."""
    moment = iso(at)
    store.send(
        [
            f.page_view(
                f"s-{order_id}",
                iso(at - timedelta(minutes=10)),
                email=email,
                url=f"https://shop.example/?ref={email}&utm_source=mail",
            ),
            f.order(order_id, modified=moment, created=moment, paid=moment, email=email),
        ],
        at,
    )
    store.tick(at + timedelta(hours=2))
    refund = f.refund(
        order_id, order_id + 1000, "5.00", at=iso(at + timedelta(days=1)), email=email
    )
    refund["data"]["reason"] = reason
    store.send([refund], at + timedelta(days=1))


def _unsubscribed(site_id: int, email: str, at: datetime) -> None:
    Suppression.create(site=site_id, email=email, reason="unsubscribed", created_at=at)


def _marketing_mail(store: Store, email: str) -> list[str]:
    return [m.flow_key for m in store.messages() if m.to_email == email and m.is_marketing]


def test_erasing_an_address_nobody_has_leaves_a_longer_address_ending_in_it_untouched(
    client, site, settings
):
    store = Store(site, settings)
    _history(store, UMAR, 400, T0, f"customer {UMAR} wrote: wrong size")
    _unsubscribed(site.site.id, UMAR, T0 + timedelta(days=2))
    before, umar_before = site_rows(site.site.id), rows_holding(site.site.id, UMAR)
    assert (
        len(umar_before) >= 6
    )  # contact, order's raw event, visit, refund, message, suppression...

    answer = _erase(client, site, "novak354@example.com")

    assert rows_holding(site.site.id, UMAR) == umar_before
    assert site_rows(site.site.id) == before
    assert answer["total"] == 0
    later = T0 + timedelta(days=30)
    store.send(
        [f.order(401, modified=iso(later), created=iso(later), paid=iso(later), email=UMAR)], later
    )
    store.run(later, later + timedelta(days=6), every=timedelta(hours=12))
    assert Contact.select().where(Contact.site == site.site.id, Contact.email == UMAR).count() == 1
    assert (
        Suppression.get(Suppression.site == site.site.id, Suppression.email == UMAR).reason
        == "unsubscribed"
    )
    assert _marketing_mail(store, UMAR) == []


def test_erasing_an_address_leaves_another_address_that_contains_it_untouched(
    client, site, settings
):
    store = Store(site, settings)
    _history(store, JOANN7, 500, T0, "wrong colour")
    _history(store, ANN7, 600, T0 + timedelta(hours=3), f"copy to {JOANN7}, {ANN7}.")
    _unsubscribed(site.site.id, JOANN7, T0 + timedelta(days=2))
    _unsubscribed(site.site.id, ANN7, T0 + timedelta(days=2))
    joann_before = [
        row for row in rows_holding(site.site.id, JOANN7) if not _stands_alone(row, ANN7, JOANN7)
    ]

    _erase(client, site, ANN7)

    joann_after = rows_holding(site.site.id, JOANN7)
    assert [row for row in joann_before if row not in joann_after] == []
    assert Contact.get(Contact.site == site.site.id, Contact.email == JOANN7).first_name == "Ann"
    assert (
        Suppression.get(Suppression.site == site.site.id, Suppression.email == JOANN7).reason
        == "unsubscribed"
    )
    assert [m.to_email for m in store.messages()].count(JOANN7) == 1
    reasons = {r.reason for r in Refund.select().where(Refund.site == site.site.id)}
    assert reasons == {"wrong colour", f"copy to {JOANN7}, [erased]."}
    assert (
        Visit.get(Visit.landing_url.contains(JOANN7)).landing_url
        == f"https://shop.example/?ref={JOANN7}&utm_source=mail"
    )
    assert (
        sum(JOANN7 in e.payload for e in RawEvent.select().where(RawEvent.site == site.site.id))
        == 4
    )
    assert [
        row for row in rows_holding(site.site.id, ANN7) if _stands_alone(row, ANN7, JOANN7)
    ] == []


def _stands_alone(row: tuple[str, tuple[Any, ...]], email: str, longer: str) -> bool:
    """Whether the row holds `email` somewhere other than inside `longer`."""
    text = " ".join(v.lower() for v in row[1] if isinstance(v, str))
    return email in text.replace(longer, "")


def test_erasing_the_shops_own_sender_address_leaves_the_flow_settings_and_sent_mail_as_they_were(
    client, site, settings
):
    sender = "hello@shop.example"
    url = f"/v1/sites/{site.site.public_id}/flows"
    change = {"settings": {"from_email": sender, "reply_to": sender}}
    assert client.put(url, json=change, headers=bearer(site)).status_code == 200
    store = Store(site, settings)
    store.send([f.order(100, modified=iso(T0), created=iso(T0), paid=iso(T0))], T0)
    store.tick(T0 + timedelta(hours=2))
    settings_before = [
        (s.flow_key, s.config) for s in FlowSetting.select().where(FlowSetting.site == site.site.id)
    ]
    flows_before = client.get(url, headers=bearer(site)).get_json()
    [mail] = store.messages()

    _erase(client, site, sender)

    assert [
        (s.flow_key, s.config) for s in FlowSetting.select().where(FlowSetting.site == site.site.id)
    ] == settings_before
    assert client.get(url, headers=bearer(site)).get_json() == flows_before
    assert (Message.get_by_id(mail.id).from_email, Message.get_by_id(mail.id).reply_to) == (
        sender,
        sender,
    )


def test_an_erased_unsubscriber_who_comes_back_gets_no_marketing_mail_from_any_flow(
    client, site, settings
):
    store = Store(site, settings)
    _history(store, ANN7, 600, T0, "too small")
    _unsubscribed(site.site.id, ANN7, T0 + timedelta(days=2))
    _erase(client, site, ANN7)
    [kept] = Suppression.select().where(Suppression.site == site.site.id)
    assert (
        kept.email.startswith("erased:")
        and kept.reason == "unsubscribed"
        and ANN7 not in kept.email
    )

    later = T0 + timedelta(days=30)
    store.send(
        [
            f.order(601, modified=iso(later), created=iso(later), paid=iso(later), email=ANN7),
            f.cart("cart-back", at=iso(later + timedelta(hours=1)), email=ANN7),
        ],
        later,
    )
    store.run(later, later + timedelta(days=6), every=timedelta(hours=6))

    contact = Contact.get(
        Contact.site == site.site.id, Contact.email == ANN7, Contact.erased_at.is_null()
    )
    assert (
        Suppression.get(Suppression.site == site.site.id, Suppression.email == ANN7).reason
        == "unsubscribed"
    )
    assert [m.to_email for m in store.messages() if m.created_at > later] == []
    active = Enrolment.select().where(Enrolment.contact == contact.id, Enrolment.status == "active")
    assert list(active) == []
