"""Numbers in addresses, forms and other servers' headers: only ASCII digits short enough for a
column are numbers. `str.isdigit` also takes '²', which `int()` refuses: the schemathesis run of
5 Dec 2026 found a contact address with it answering 500."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from companion.core.numbers import whole_number
from companion.email import sendgrid
from companion.models import Contact
from companion.woocommerce import importer
from tests.dashboard.session import sign_in
from tests.factories import order
from tests.helpers import bearer, post_events, run_jobs


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("007", 7),
        ("²", None),
        ("٣", None),  # an Arabic-Indic three: int() reads it, but it is no id anyone typed
        ("1²", None),
        ("-1", None),
        ("1.5", None),
        ("", None),
        (None, None),
        ("9" * 18, int("9" * 18)),
        ("9" * 19, None),  # longer than a 64-bit column holds
    ],
)
def test_a_whole_number_is_ascii_digits_that_fit_a_column(text: str | None, number: Any) -> None:
    assert whole_number(text) == number


@pytest.mark.parametrize("key", ["%C2%B2", "%D9%A3", "99999999999999999999", "0"])
def test_an_odd_contact_key_is_404_on_the_api_and_the_dashboard(
    client: Any, site: Any, key: str
) -> None:
    assert post_events(client, site, [order(1)]).status_code == 202
    run_jobs()
    ann = Contact.get(Contact.email == "ann@example.com")
    api = f"/v1/sites/{site.site.public_id}/contacts"
    assert client.get(f"{api}/{ann.id}", headers=bearer(site)).status_code == 200
    assert client.get(f"{api}/{key}", headers=bearer(site)).status_code == 404
    sign_in(client, site)
    page = f"/dashboard/{site.site.public_id}/contacts"
    assert client.get(f"{page}/{ann.id}").status_code == 200
    assert client.get(f"{page}/{key}").status_code == 404


@pytest.mark.parametrize("retry_after", ["²", "٣", "9" * 30])
def test_an_odd_retry_after_header_is_no_delay_not_a_crash(retry_after: str) -> None:
    assert sendgrid._retry_after({"Retry-After": retry_after}) is None

    answer = SimpleNamespace(headers={"Retry-After": retry_after})
    assert importer._retry_after(answer) is None  # type: ignore[arg-type]
