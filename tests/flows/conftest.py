"""The flows' small world: a store whose events are applied at simulated times, a scheduler tick
run in-process at any moment, and Prism playing SendGrid (the email edge's fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from companion.email.sendgrid import SendGridTransport
from tests.flows.coupon_store import CouponStore, running
from tests.flows.store import Store


@pytest.fixture
def store(site: Any, settings: Any) -> Store:
    return Store(site, settings)


@pytest.fixture
def other_store(other_site: Any, settings: Any) -> Store:
    return Store(other_site, settings)


@pytest.fixture
def sendgrid(prism_url: str) -> Iterator[SendGridTransport]:
    yield SendGridTransport(api_key="SG.test-key", host=prism_url, timeout=10.0)


@pytest.fixture
def coupon_shop(store: Store) -> Iterator[CouponStore]:
    """The store's plugin coupon route on a local port (the site's url points at it)."""
    with running(CouponStore(store.site.secret)) as server:
        store.site.url = server.url
        store.site.save()
        yield server
