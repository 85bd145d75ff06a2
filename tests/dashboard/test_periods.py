"""The date range picker's presets and the comparison period."""

from __future__ import annotations

from datetime import date

from companion.dashboard.periods import parse_period, preset_period

TODAY = date(2026, 3, 15)


def test_presets_end_today_and_have_the_length_they_say():
    assert preset_period("7d", TODAY).first == date(2026, 3, 9)
    assert preset_period("30d", TODAY).days == 30
    assert preset_period("mtd", TODAY).first == date(2026, 3, 1)


def test_last_month_is_the_whole_previous_calendar_month():
    period = preset_period("last_month", TODAY)
    assert (period.first, period.last) == (date(2026, 2, 1), date(2026, 2, 28))


def test_the_comparison_is_the_period_of_equal_length_just_before():
    previous = preset_period("7d", TODAY).previous()
    assert (previous.first, previous.last) == (date(2026, 3, 2), date(2026, 3, 8))


def test_a_custom_range_is_put_in_order_and_never_reaches_into_the_future():
    period = parse_period({"range": "custom", "from": "2026-04-30", "to": "2026-03-01"}, TODAY)
    assert (period.first, period.last) == (date(2026, 3, 1), TODAY)


def test_unreadable_input_falls_back_to_the_last_30_days_and_compare_none_is_kept():
    period = parse_period({"range": "custom", "from": "soon", "compare": "none"}, TODAY)
    assert period.days == 30 and period.last == TODAY and not period.compare
    assert parse_period({"range": "forever"}, TODAY).preset == "30d"


def test_long_ranges_are_charted_by_week_or_month():
    assert preset_period("30d", TODAY).interval == "day"
    assert preset_period("365d", TODAY).interval == "week"
    assert (
        parse_period({"range": "custom", "from": "2024-01-01", "to": "2026-03-15"}, TODAY).interval
        == "month"
    )
