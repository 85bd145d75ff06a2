"""The shifted run of `make test` really runs with the clock moved (it must not pass by doing
nothing)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from tests.clock_shift import outside_time, shift_days


def _clock_of_another_process() -> float:
    out = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": ""},
    )
    return float(out.stdout)


def test_this_process_reads_the_clock_moved_by_the_configured_days_and_others_do_not():
    other = _clock_of_another_process()
    ahead = time.time() - other
    assert abs(ahead - shift_days() * 86_400) < 60, (ahead, shift_days())
    assert abs(datetime.now(UTC).timestamp() - time.time()) < 5  # datetime moves with time
    assert abs(outside_time() - other) < 60


def test_the_moved_clock_ticks():
    first = datetime.now(UTC)
    time.sleep(0.05)
    assert timedelta(0) < datetime.now(UTC) - first < timedelta(seconds=5)
