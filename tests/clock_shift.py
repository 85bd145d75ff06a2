"""A pytest plugin that moves the test process's wall clock, so a test that leans on today's date
fails the day it is written, not weeks later.

    COMPANION_TEST_CLOCK_SHIFT_DAYS=400 pytest      # every clock read is 400 days ahead, and ticks

Loaded from pyproject (`-p tests.clock_shift`); without the variable it does nothing. It shifts
`time.time`, `datetime.now`/`utcnow`, `date.today` and friends in this process only (time-machine);
`time.monotonic` and `time.sleep` are untouched, and so are subprocesses (Prism, PHP). Domain code
takes `now` from its caller, so the suite must pass at any shift: `make test` runs it once shifted.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

VARIABLE = "COMPANION_TEST_CLOCK_SHIFT_DAYS"
_traveller = None
_offset_s = 0.0  # how far this process's clock is ahead of every other process's


def outside_time() -> float:
    """The epoch seconds a process outside the shift reads now (a server the test started)."""
    return time.time() - _offset_s


def shift_days() -> int:
    raw = os.environ.get(VARIABLE, "").strip()
    return int(raw) if raw else 0


def pytest_configure(config: pytest.Config) -> None:
    global _traveller, _offset_s
    days = shift_days()
    if not days:
        return
    _traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
    _traveller.start()
    _offset_s = timedelta(days=days).total_seconds()


def pytest_report_header(config: pytest.Config) -> str | None:
    days = shift_days()
    return (
        f"wall clock moved {days} days: it reads {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        if days
        else None
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    global _traveller, _offset_s
    if _traveller is not None:
        _traveller.stop()
        _traveller, _offset_s = None, 0.0
