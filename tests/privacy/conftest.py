"""The privacy world: Ann has bought, refunded, browsed, left a cart, been mailed and unsubscribed;
Bob shops at the same store, and Ann also shops at another site that her erasure must not touch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from companion.models import Suppression
from tests import factories as f
from tests.flows.store import T0, Store, iso
from tests.privacy.world import ANN, ann_history, ann_refund, bob_history


@pytest.fixture
def world(site: Any, other_site: Any, settings: Any) -> Store:
    """Ann's and Bob's history applied, the thank-you mails written, Ann unsubscribed."""
    store, other = Store(site, settings), Store(other_site, settings)
    store.send(ann_history() + bob_history(), T0)
    other.send([f.order(300, modified=iso(T0), created=iso(T0), paid=iso(T0))], T0)
    store.tick(T0 + timedelta(hours=2))
    Suppression.create(
        site=site.site.id, email=ANN, reason="unsubscribed", created_at=T0 + timedelta(hours=3)
    )
    store.send([ann_refund()], T0 + timedelta(days=2))
    return store
