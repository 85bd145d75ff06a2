"""The hand-written multi-row statements store and read back exactly what peewee's own would,
on every engine: money to the 1/10,000, UTC times, JSON, defaults, conflicts skipped or added."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from companion.core import bulk
from companion.core.bulk import among, array_literal, insert_rows, update_by_id
from companion.models import Contact, Order, OrderItem
from companion.models.rollups import RollupDaily


@pytest.fixture(autouse=True, params=["arrays", "values"])
def statement_kind(request, monkeypatch):
    """Every test with both of PostgreSQL's statement kinds: one array per column, and a VALUES
    list (or a statement per row) for a few rows. The other engines have one kind only."""
    monkeypatch.setattr(bulk, "ARRAYS_FROM", 1 if request.param == "arrays" else 10**9)
    return request.param


def _order(site_id: int, n: int, **extra: Any) -> dict[str, Any]:
    at = datetime(2026, 3, 29, 1, 30, 15)
    return {
        "site": site_id,
        "source": "woocommerce",
        "external_id": str(n),
        "status": "completed",
        "currency": "EUR",
        "total": Decimal("19.9999"),
        "coupons": ["SPRING", "VIP"],
        "created_at": at,
        "modified_at": at,
        "counted_at": at,
        "is_counted": True,
        "snapshot_seq": n,
        **extra,
    }


def test_rows_read_back_as_peewee_wrote_them(site):
    insert_rows(Order, [_order(site.site.id, 1)])
    Order.insert_many([_order(site.site.id, 2)]).execute()
    ours, theirs = (Order.get(Order.external_id == n) for n in ("1", "2"))
    for name in (
        "total",
        "coupons",
        "created_at",
        "counted_at",
        "is_counted",
        "refunded_total",
        "deleted_at",
        "status",
        "currency",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.total == Decimal("19.9999") and ours.coupons == ["SPRING", "VIP"]
    assert ours.created_at == datetime(2026, 3, 29, 1, 30, 15)


def test_a_row_that_leaves_a_column_out_gets_its_default(site):
    insert_rows(
        Contact,
        [
            {"site": site.site.id, "email": "a@example.com", "first_name": "Ann"},
            {"site": site.site.id, "email": "b@example.com", "phone": "+44 20"},
        ],
    )
    a, b = (Contact.get(Contact.email == e) for e in ("a@example.com", "b@example.com"))
    assert (a.first_name, a.phone, a.orders_count, a.total_spent) == ("Ann", None, 0, Decimal(0))
    assert (b.first_name, b.phone) == (None, "+44 20")
    assert a.created_at is not None


def test_ignoring_conflicts_keeps_the_stored_row_and_inserts_the_rest(site):
    insert_rows(Order, [_order(site.site.id, 1)])
    insert_rows(
        Order,
        [_order(site.site.id, 1, total=Decimal("1.00")), _order(site.site.id, 3)],
        ignore_conflicts=True,
    )
    assert sorted((o.external_id, o.total) for o in Order.select()) == [
        ("1", Decimal("19.9999")),
        ("3", Decimal("19.9999")),
    ]


def test_returning_gives_exactly_the_rows_this_insert_stored(site):
    """What refunds rely on to know which were new while another worker may insert the same ones."""
    insert_rows(Order, [_order(site.site.id, 1)])
    stored = insert_rows(
        Order,
        [_order(site.site.id, n) for n in (1, 2, 3)],
        ignore_conflicts=True,
        returning=("id", "external_id"),
    )
    ids = {o.external_id: o.id for o in Order.select()}
    assert sorted(stored, key=lambda r: r[1]) == [(ids["2"], "2"), (ids["3"], "3")]
    assert (
        insert_rows(Order, [_order(site.site.id, 2)], ignore_conflicts=True, returning=("id",))
        == []
    )


def test_adding_on_a_key_adds_to_the_stored_values_of_that_site_only(site, other_site):
    key = ("site", "day", "currency")
    day = {"day": date(2026, 1, 5), "currency": "EUR"}
    insert_rows(
        RollupDaily,
        [
            {"site": site.site.id, **day, "orders": 2, "revenue": Decimal("10.0001")},
            {"site": other_site.site.id, **day, "orders": 7, "revenue": Decimal(70)},
        ],
    )
    insert_rows(
        RollupDaily,
        [{"site": site.site.id, **day, "orders": 3, "revenue": Decimal("-0.0002")}],
        add_on=key,
    )
    got = {r.site_id: (r.orders, r.revenue) for r in RollupDaily.select()}
    assert got == {site.site.id: (5, Decimal("9.9999")), other_site.site.id: (7, Decimal(70))}


def test_more_rows_than_one_statement_takes_are_all_written(site):
    order = Order.create(**_order(site.site.id, 1))
    items = [
        {
            "order": order.id,
            "site": site.site.id,
            "product_id": str(n),
            "name": f"Item {n}",
            "quantity": n,
            "price": Decimal("0.0001") * n,
            "total": Decimal("1.5") * n,
            "categories": ["a", str(n)],
        }
        for n in range(1, 2_501)
    ]
    insert_rows(OrderItem, items)
    stored = {i.product_id: i for i in OrderItem.select()}
    assert len(stored) == 2_500
    assert stored["2500"].total == Decimal("3750.0") and stored["7"].categories == ["a", "7"]


def test_update_by_id_sets_each_rows_own_values(site):
    ids = [Contact.create(site=site.site.id, email=f"c{n}@example.com").id for n in range(3)]
    at = datetime(2026, 5, 1, 12, 0, 0)
    update_by_id(
        Contact,
        {
            ids[0]: {"orders_count": 2, "total_spent": Decimal("10.50"), "last_order_at": at},
            ids[2]: {"orders_count": 1, "total_spent": Decimal("0.0001"), "last_order_at": None},
        },
        ("orders_count", "total_spent", "last_order_at"),
    )
    got = {c.id: (c.orders_count, c.total_spent, c.last_order_at) for c in Contact.select()}
    assert got == {
        ids[0]: (2, Decimal("10.50"), at),
        ids[1]: (0, Decimal(0), None),
        ids[2]: (1, Decimal("0.0001"), None),
    }


def test_among_matches_ids_and_strings_and_nothing_for_an_empty_list(site):
    contacts = [Contact.create(site=site.site.id, email=f"c{n}@example.com") for n in range(4)]
    assert sorted(
        c.id for c in Contact.select().where(among(Contact.id, [contacts[1].id, contacts[3].id]))
    ) == [contacts[1].id, contacts[3].id]
    quoted = ["c0@example.com", "x'); DROP TABLE contact; --"]
    assert [c.email for c in Contact.select().where(among(Contact.email, quoted))] == [
        "c0@example.com"
    ]
    assert list(Contact.select().where(among(Contact.id, []))) == []
    assert Contact.select().count() == 4


AWKWARD = [
    'say "hi"',
    "back\\slash and \\N and ends with \\",
    "{braces}, commas, (parens)",
    "NULL",
    "",
    "  spaced  ",
    "tab\there\nnew line\r\n",
    "O'Brien; DROP TABLE contact; --",
    "unicode ✓ é ß 日本",
    '\\"',
]


def test_any_text_is_stored_as_it_was_given(site):
    """On PostgreSQL each column goes as one array literal (quotes, backslashes, braces and the
    word NULL are its syntax); on every engine the text reads back unchanged, and None is NULL."""
    names = [*AWKWARD, None]
    insert_rows(
        Contact,
        [
            {"site": site.site.id, "email": f"c{n}@example.com", "first_name": name}
            for n, name in enumerate(names)
        ],
    )
    stored = {c.email: c.first_name for c in Contact.select()}
    assert stored == {f"c{n}@example.com": name for n, name in enumerate(names)}
    ids = {c.email: c.id for c in Contact.select()}
    update_by_id(
        Contact,
        {ids[f"c{n}@example.com"]: {"last_name": name} for n, name in enumerate(reversed(names))},
        ("last_name",),
    )
    stored = {c.email: c.last_name for c in Contact.select()}
    assert stored == {f"c{n}@example.com": name for n, name in enumerate(reversed(names))}


def test_times_with_a_zone_are_stored_in_utc_and_without_one_as_they_are(site):
    berlin = timezone(timedelta(hours=1))
    rows = [
        _order(site.site.id, 1, created_at=datetime(2026, 3, 29, 2, 30, tzinfo=berlin)),
        _order(site.site.id, 2, created_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        _order(site.site.id, 3, created_at=datetime(2026, 3, 29, 1, 30, 0, 250_000)),
    ]
    insert_rows(Order, rows)
    got = {o.external_id: o.created_at for o in Order.select()}
    assert got["1"] == got["2"] == datetime(2026, 3, 29, 1, 30)
    assert got["3"].replace(microsecond=0) == datetime(2026, 3, 29, 1, 30)


def test_an_array_literal_never_splits_a_value():
    """The whole-column escape joins on NUL; a value holding one must stay one element (the driver
    then refuses it, as it refuses NUL in any text), never become two rows' values."""
    assert array_literal(["a\x00b", "c"]) == '{"a\x00b","c"}'
    assert array_literal(['say "hi"', "a\\b", "", "NULL"]) == '{"say \\"hi\\"","a\\\\b","","NULL"}'
    assert array_literal(["x", None, 3]) == '{"x",NULL,"3"}'
    assert array_literal([1, None, True]) == "{1,NULL,True}"
