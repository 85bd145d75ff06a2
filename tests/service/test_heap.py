"""The import's processes settle their heap after start-up (companion/core/heap.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from companion.core import heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_settle_freezes_what_is_loaded_and_collects_the_young_less_often() -> None:
    gc.unfreeze()
    older, oldest = gc.get_threshold()[1:]
    heap.settle()
    assert gc.get_freeze_count() > 1000  # the loaded modules' objects, no longer walked
    assert gc.get_threshold() == (heap.YOUNG, older, oldest)


@pytest.mark.usefixtures("restored_collector")
def test_a_cycle_made_after_settling_is_still_collected() -> None:
    heap.settle()

    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first  # type: ignore[attr-defined]
    watched = weakref.ref(first)
    del first, second
    assert watched() is not None  # a cycle: reference counts alone never free it
    gc.collect()
    assert watched() is None
