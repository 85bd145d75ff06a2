"""Stage and segment counts: written by every full refresh from the contacts it scored, so the
customers page reads a dozen rows; they hold between refreshes and never mix sites."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from peewee import fn

from bench.intel_store import StoreShape, generate_store
from companion.intelligence.refresh import refresh_site, rescore_contacts
from companion.intelligence.stage_groups import stage_groups
from companion.migrations.steps import create_stage_groups
from companion.models import Contact, Site
from companion.models.base import money_from_units
from companion.models.intelligence import StageGroup
from companion.privacy import erase_person

END = datetime(2026, 10, 1)
SHAPE = StoreShape(customers=150, leads=5, days=200, end=END, seed=11)


@pytest.fixture
def store(site: Any) -> Any:
    generate_store(site.site, SHAPE)
    return site


def grouped_over_contacts(site_id: int, column: Any) -> dict[str, tuple[int, Decimal]]:
    """What the page computed per request before the roll-up: every contact of the site grouped."""
    net = fn.SUM(Contact.total_spent - Contact.refunded).coerce(False)
    query = (
        Contact.select(column, fn.COUNT(Contact.id), net)
        .where(Contact.site == site_id, Contact.erased_at.is_null(), column.is_null(False))
        .group_by(column)
    )
    return {key: (n, money_from_units(units)) for key, n, units in query.tuples()}


def assert_counts_match_the_contacts(site_id: int) -> None:
    assert stage_groups(site_id, "stage")[0] == grouped_over_contacts(site_id, Contact.stage)
    assert stage_groups(site_id, "segment")[0] == grouped_over_contacts(
        site_id, Contact.rfm_segment
    )


def test_a_refresh_writes_the_counts_and_net_spend_of_every_stage_and_segment(store):
    refresh_site(store.site, END)
    assert_counts_match_the_contacts(store.site.id)
    stages, written = stage_groups(store.site.id, "stage")
    assert (
        written is not None and sum(n for n, _ in stages.values()) == SHAPE.customers + SHAPE.leads
    )


def test_a_stage_changed_by_a_refresh_moves_between_counts(store):
    refresh_site(store.site, END)
    before = stage_groups(store.site.id, "stage")[0]
    refresh_site(
        store.site, END.replace(year=2027)
    )  # a year without orders: customers drift to churned
    after = stage_groups(store.site.id, "stage")[0]
    assert after != before and after.get("churned", (0,))[0] > before.get("churned", (0,))[0]
    assert_counts_match_the_contacts(store.site.id)


def test_rescoring_a_few_customers_between_refreshes_leaves_the_counts_of_the_refresh(store):
    refresh_site(store.site, END)  # a live refresh: later orders are scored against its model
    written = list(StageGroup.select().order_by(StageGroup.id).dicts())
    customer = (
        Contact.select().where(Contact.site == store.site.id, Contact.stage != "lead").first()
    )
    Contact.update(total_spent=customer.total_spent + 500).where(
        Contact.id == customer.id
    ).execute()
    rescore_contacts(store.site.id, [customer.id], END)
    assert list(StageGroup.select().order_by(StageGroup.id).dicts()) == written


def test_an_erased_contact_leaves_the_counts_at_the_next_refresh(store, settings):
    refresh_site(store.site, END)
    customer = (
        Contact.select().where(Contact.site == store.site.id, Contact.stage != "lead").first()
    )
    erase_person(store.site.id, customer.email, settings.secret_key, END)
    refresh_site(store.site, END)
    assert_counts_match_the_contacts(store.site.id)
    stages = stage_groups(store.site.id, "stage")[0]
    assert sum(n for n, _ in stages.values()) == SHAPE.customers + SHAPE.leads - 1


def test_one_sites_refresh_never_writes_or_shows_another_sites_counts(store, other_site):
    generate_store(other_site.site, StoreShape(customers=20, leads=2, days=60, end=END, seed=3))
    refresh_site(Site.get_by_id(other_site.site.id), END)
    assert stage_groups(store.site.id, "stage") == ({}, None)
    refresh_site(store.site, END)
    assert_counts_match_the_contacts(store.site.id)
    assert_counts_match_the_contacts(other_site.site.id)
    assert sum(n for n, _ in stage_groups(other_site.site.id, "stage")[0].values()) == 22


def test_the_migration_fills_the_counts_from_the_contacts_stages(store, db):
    refresh_site(store.site, END)
    StageGroup.delete().execute()
    create_stage_groups(db)
    assert_counts_match_the_contacts(store.site.id)
