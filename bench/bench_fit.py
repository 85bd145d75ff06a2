"""Benchmark: customer intelligence on a 200,000-customer / ~1,000,000-order store.

    .venv/bin/python bench/bench_fit.py [--customers 200000] [--skip-lifetimes]

Simulates a BG/NBD + Gamma-Gamma population (time unit: days), then times the project's fits
and scoring, RFM, lifecycle stages and bought-together pairs. For comparison it also fits the
same summary with the `lifetimes` package in a separate venv (/tmp/lifetimes-venv, created on
first use); that part is skipped with a note when lifetimes cannot be installed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from companion.intelligence.maths.basket import bought_together
from companion.intelligence.maths.bgnbd import (
    conditional_expected_purchases,
    expected_next_purchase_time,
    fit_bgnbd,
    group_summary,
    probability_alive,
)
from companion.intelligence.maths.gammagamma import fit_gamma_gamma, predicted_clv
from companion.intelligence.maths.lifecycle import lifecycle_stages
from companion.intelligence.maths.rfm import rfm_scores

TRUE = {"r": 0.65, "alpha": 20.0, "a": 1.0, "b": 4.0, "p": 6.0, "q": 4.0, "gamma": 30.0}
LIFETIMES_VENV = Path("/tmp/lifetimes-venv")


def simulate_customers(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per customer: repeat purchases x, recency t_x, age T (days) and mean repeat spend."""
    age = rng.integers(1, 731, n).astype(float)
    rate = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], n)
    dropout = rng.beta(TRUE["a"], TRUE["b"], n)
    x, t_x = np.zeros(n), np.zeros(n)
    clock, active = np.zeros(n), np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1.0, active.size) / rate[active]
        bought = clock[active] <= age[active]
        buyers = active[bought]
        x[buyers] += 1
        t_x[buyers] = clock[buyers]
        active = buyers[rng.random(buyers.size) >= dropout[buyers]]
    t_x = np.round(t_x)  # whole days, as the service stores them
    nu = rng.gamma(TRUE["q"], 1.0 / TRUE["gamma"], n)
    bought = np.maximum(x, 1)  # mean of x Gamma(p, nu) spends is Gamma(p x, nu x)
    spend = np.where(x > 0, rng.gamma(TRUE["p"] * bought, 1.0) / (nu * bought), 0.0)
    return {"x": x, "t_x": t_x, "T": age, "spend": np.round(spend, 2)}


def simulate_order_lines(
    n_orders: int, n_products: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    lines = 1 + rng.poisson(1.2, n_orders)
    popularity = 1.0 / np.arange(1, n_products + 1) ** 0.8
    products = rng.choice(n_products, size=int(lines.sum()), p=popularity / popularity.sum())
    return np.repeat(np.arange(n_orders), lines), products


def timed(label: str, fn: Callable[[], Any], report: dict[str, float]) -> Any:
    start = time.perf_counter()
    value = fn()
    report[label] = time.perf_counter() - start
    print(f"  {label:<44} {report[label] * 1000:9.1f} ms")
    return value


def run_ours(c: dict[str, np.ndarray], report: dict[str, float]) -> None:
    args = (c["x"], c["t_x"], c["T"])
    s = timed("group identical (x, t_x, T) rows", lambda: group_summary(*args), report)
    print(f"    {c['x'].size:,} customers -> {s.frequency.size:,} distinct rows")
    bg = timed("BG/NBD fit (grouping included)", lambda: fit_bgnbd(*args), report)
    gg = timed("Gamma-Gamma fit", lambda: fit_gamma_gamma(c["x"], c["spend"]), report)
    print(
        f"    BG/NBD r={bg.r:.3f} alpha={bg.alpha:.2f} a={bg.a:.3f} b={bg.b:.3f} "
        f"({bg.message}); true {TRUE['r']}, {TRUE['alpha']}, {TRUE['a']}, {TRUE['b']}"
    )
    print(
        f"    Gamma-Gamma p={gg.p:.2f} q={gg.q:.2f} gamma={gg.gamma:.2f} ({gg.message}); "
        f"true {TRUE['p']}, {TRUE['q']}, {TRUE['gamma']}"
    )

    def score() -> None:
        probability_alive(bg, *args)
        conditional_expected_purchases(bg, 90.0, *args)
        expected_next_purchase_time(bg, *args)
        predicted_clv(bg, gg, 365.0, *args, c["spend"])

    timed("score: P(alive), E[X(90)], next order, CLV 365", score, report)
    orders = c["x"] + 1
    last_days_ago = c["T"] - c["t_x"]
    net = orders * np.where(c["spend"] > 0, c["spend"], 50.0)
    timed("RFM scores and segments", lambda: rfm_scores(last_days_ago, orders, net), report)
    timed(
        "lifecycle stages with reasons",
        lambda: lifecycle_stages(
            orders, c["T"], last_days_ago, net, p_alive=probability_alive(bg, *args)
        ),
        report,
    )


def run_basket(n_orders: int, rng: np.random.Generator, report: dict[str, float]) -> None:
    order_ids, products = simulate_order_lines(n_orders, 5000, rng)
    pairs = timed(
        "bought-together pairs (min count 5)",
        lambda: bought_together(order_ids, products, min_count=5),
        report,
    )
    print(
        f"    {n_orders:,} orders, {order_ids.size:,} lines, 5,000 products -> {len(pairs):,} pairs"
    )


LIFETIMES_SCRIPT = """
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
d = pd.read_csv(sys.argv[1])
out = {}
t = time.perf_counter(); bg = BetaGeoFitter().fit(d["x"], d["t_x"], d["T"])
out["lifetimes BG/NBD fit, one row per customer"] = time.perf_counter() - t
g = d.groupby(["x", "t_x", "T"]).size().rename("w").reset_index()
t = time.perf_counter(); bgw = BetaGeoFitter().fit(g["x"], g["t_x"], g["T"], weights=g["w"])
out["lifetimes BG/NBD fit, grouped with weights"] = time.perf_counter() - t
r = d[d["x"] > 0]
t = time.perf_counter(); gg = GammaGammaFitter().fit(r["x"], r["spend"])
out["lifetimes Gamma-Gamma fit"] = time.perf_counter() - t
out["params"] = {**bg.params_.round(3).to_dict(), **gg.params_.round(2).to_dict()}
print(json.dumps(out))
"""


def lifetimes_python() -> Path | None:
    python = LIFETIMES_VENV / "bin" / "python"
    if not python.exists():
        print("  creating /tmp/lifetimes-venv with lifetimes (pandas<3, setuptools<81) ...")
        steps = [
            [sys.executable, "-m", "venv", str(LIFETIMES_VENV)],
            [str(python), "-m", "pip", "install", "-q", "lifetimes", "pandas<3", "setuptools<81"],
        ]
        for step in steps:
            if subprocess.run(step, check=False, capture_output=True, text=True).returncode != 0:
                return None
    check = subprocess.run(
        [str(python), "-c", "import lifetimes"], check=False, capture_output=True
    )
    return python if check.returncode == 0 else None


def run_lifetimes(c: dict[str, np.ndarray], report: dict[str, float]) -> None:
    python = lifetimes_python()
    if python is None:
        print("  NOTE: lifetimes could not be installed in /tmp/lifetimes-venv; comparison skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "summary.csv"
        rows = np.column_stack([c["x"], c["t_x"], c["T"], c["spend"]])
        np.savetxt(csv, rows, delimiter=",", header="x,t_x,T,spend", comments="", fmt="%.2f")
        done = subprocess.run(
            [str(python), "-c", LIFETIMES_SCRIPT, str(csv)],
            check=False,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    if done.returncode != 0:
        print(f"  NOTE: lifetimes failed, comparison skipped:\n{done.stderr[-800:]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    params = result.pop("params")
    for label, seconds in result.items():
        report[label] = seconds
        print(f"  {label:<44} {seconds * 1000:9.1f} ms")
    print(f"    lifetimes parameters: {params}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders for the basket run")
    parser.add_argument("--skip-lifetimes", action="store_true")
    options = parser.parse_args(argv)
    rng = np.random.default_rng(2026)
    report: dict[str, float] = {}
    customers = timed(
        "simulate customers", lambda: simulate_customers(options.customers, rng), report
    )
    total_orders = int(customers["x"].sum() + customers["x"].size)
    print(f"    {options.customers:,} customers, {total_orders:,} orders")
    run_ours(customers, report)
    run_basket(options.orders, rng, report)
    if options.skip_lifetimes:
        print("  lifetimes comparison skipped (--skip-lifetimes)")
    else:
        run_lifetimes(customers, report)


if __name__ == "__main__":
    main()
