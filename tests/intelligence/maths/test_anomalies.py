from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from companion.intelligence.maths.anomalies import (
    Incident,
    detect_incidents,
    detect_rate_incidents,
    open_incident,
    stalled_products,
)

DAYS = 280
WEEKLY = np.array([1.0, 1.1, 1.0, 0.9, 1.2, 1.6, 1.4])
REVENUE_DROP = (200, 209)  # revenue halves for ten days
REFUND_SPIKE = (150, 154)  # refund rate 4 % -> 20 % for five days
CONVERSION_DROP = (230, 236)  # conversion 2.5 % -> 1.25 % for a week
PRODUCT_STOP = 262  # a product selling ~3 a day sells nothing from this day on
STOPPED_PRODUCT = 3


@dataclass
class Store:
    revenue: np.ndarray
    orders: np.ndarray
    refunds: np.ndarray
    sessions: np.ndarray
    conversions: np.ndarray
    units: np.ndarray  # products x days


def generated_store(seed: int) -> Store:
    """A store of ~100 orders a day with weekday rhythm and the incidents above injected."""
    rng = np.random.default_rng(seed)
    rhythm = WEEKLY[np.arange(DAYS) % 7]
    orders = rng.poisson(100 * rhythm)
    revenue = rng.gamma(4.0 * np.maximum(orders, 1), 15.0) * (orders > 0)
    revenue[REVENUE_DROP[0] : REVENUE_DROP[1] + 1] *= 0.5
    refund_p = np.full(DAYS, 0.04)
    refund_p[REFUND_SPIKE[0] : REFUND_SPIKE[1] + 1] = 0.20
    sessions = rng.poisson(3000 * rhythm)
    conversion_p = np.full(DAYS, 0.025)
    conversion_p[CONVERSION_DROP[0] : CONVERSION_DROP[1] + 1] = 0.0125
    rates = rng.choice([0.05, 0.3, 1.0, 3.0, 8.0], size=30)
    rates[STOPPED_PRODUCT] = 3.0
    units = rng.poisson(rates[:, None] * rhythm[None, :])
    units[STOPPED_PRODUCT, PRODUCT_STOP:] = 0
    return Store(
        revenue,
        orders,
        rng.binomial(orders, refund_p),
        sessions,
        rng.binomial(sessions, conversion_p),
        units,
    )


def all_incidents(store: Store) -> dict[str, list[Incident]]:
    return {
        "revenue": detect_incidents(store.revenue, direction="drop"),
        "refund_rate": detect_rate_incidents(store.refunds, store.orders, direction="spike"),
        "conversion_rate": detect_rate_incidents(
            store.conversions, store.sessions, direction="drop"
        ),
    }


INJECTED = {
    "revenue": REVENUE_DROP,
    "refund_rate": REFUND_SPIKE,
    "conversion_rate": CONVERSION_DROP,
}
SEEDS = range(20)


def overlaps(incident: Incident, window: tuple[int, int]) -> bool:
    return incident.start <= window[1] + 1 and incident.end >= window[0] - 1


@pytest.mark.parametrize("seed", SEEDS)
def test_every_injected_incident_is_found_within_a_day_of_its_start(seed: int) -> None:
    found = all_incidents(generated_store(seed))
    for metric, window in INJECTED.items():
        starts = [i.start for i in found[metric] if overlaps(i, window)]
        assert starts and abs(starts[0] - window[0]) <= 1, (metric, found[metric])


def test_an_incident_is_an_open_alert_on_the_day_after_it_starts() -> None:
    store = generated_store(0)
    upto = REVENUE_DROP[0] + 2  # data through the incident's second day
    alert = open_incident(detect_incidents(store.revenue[:upto], direction="drop"))
    assert alert is not None and alert.direction == "drop"
    assert abs(alert.start - REVENUE_DROP[0]) <= 1
    assert -0.65 < alert.relative_change < -0.35  # "revenue is down by about half"
    upto = REFUND_SPIKE[0] + 2
    alert = open_incident(
        detect_rate_incidents(store.refunds[:upto], store.orders[:upto], direction="spike")
    )
    assert alert is not None and alert.start == REFUND_SPIKE[0]
    assert alert.baseline == pytest.approx(0.04, abs=0.015) and alert.observed > 0.12


def test_false_alarms_on_the_quiet_part_are_rare_and_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    false_alarms = {metric: 0 for metric in INJECTED}
    for seed in SEEDS:
        for metric, incidents in all_incidents(generated_store(seed)).items():
            false_alarms[metric] += sum(not overlaps(i, INJECTED[metric]) for i in incidents)
    quiet_days = len(SEEDS) * (DAYS - 28 - 10)
    with capsys.disabled():
        print(
            f"\nalert false alarms over {len(SEEDS)} generated stores ({quiet_days} quiet "
            f"days per metric): {false_alarms}"
        )
    assert all(count <= len(SEEDS) // 4 for count in false_alarms.values()), false_alarms


def test_a_steady_seller_that_stops_is_flagged_from_its_first_silent_day() -> None:
    store = generated_store(1)
    stalled = stalled_products(store.units)
    assert [p.index for p in stalled] == [STOPPED_PRODUCT]
    assert stalled[0].since == PRODUCT_STOP
    assert stalled[0].zero_days == DAYS - PRODUCT_STOP
    assert stalled[0].daily_rate == pytest.approx(3.0 * WEEKLY.mean(), rel=0.3)


def test_a_stop_is_noticed_as_soon_as_the_silence_is_improbable() -> None:
    rhythm = WEEKLY[np.arange(120) % 7]
    units = np.random.default_rng(2).poisson(np.array([[8.0], [2.5]]) * rhythm)
    units[:, 100:] = 0
    flagged_after: dict[int, int] = {}
    for silent_days in range(1, 6):
        for p in stalled_products(units[:, : 100 + silent_days]):
            flagged_after.setdefault(p.index, silent_days)
            assert p.since == 100
    # P(no sale) = exp(-rate x days) < 0.001: one day at ~9 a day, three days at ~3 a day
    assert flagged_after == {0: 1, 1: 3}


def test_slow_movers_with_long_gaps_are_not_called_stalled() -> None:
    rng = np.random.default_rng(9)
    slow = rng.poisson(0.2, size=(50, 200))
    slow[:, -10:] = 0  # ten quiet days are normal at one sale every five days
    assert stalled_products(slow) == []


def test_a_flat_noiseless_history_does_not_alert_on_pennies() -> None:
    flat = np.full(120, 1000.0)
    flat[-3:] = 1000.5
    assert detect_incidents(flat) == []


def test_days_without_data_and_short_histories_raise_nothing() -> None:
    gappy = np.full(100, 50.0)
    gappy[50:57] = np.nan
    assert detect_incidents(gappy) == []
    assert detect_incidents([900.0, 5.0, 800.0]) == []  # under four weeks: no baseline yet
    assert detect_rate_incidents([0] * 60, [0] * 60) == []  # no orders, no refund rate
