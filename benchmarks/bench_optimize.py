#!/usr/bin/env python
"""``costsim.optimize`` over 100 capacity candidates against one ``simulate`` of the base options.

Issue 15's speed target: evaluating many candidates must cost one kernel run plus
cheap billing, not one simulation each; 100 capacity candidates at most 1.5x the
time of one simulation of the base options, measured in the same run.

The scenario (the built-in demo product, :mod:`costsim.demo`): four query classes
(chat, RAG, agent loops, long context) with heavy tails, a daily and weekly
profile, uncertain growth and bursty arrivals, ``--volume`` queries a day over
``--days`` days of hourly bins, ``--trials`` trials.  The options: the demo's
frontier API and provisioned units in front of it (``ProvisionedCapacity(units=...,
fallback="api")``).  The search: ``{"ptu.units": range(1, 101)}``, minimising
CVaR95 under a throttling constraint (met by every candidate: there is a fallback).

Both runs use one numba thread (``NUMBA_NUM_THREADS=1``, set here unless given)
and the same seed; the kernel is compiled (or loaded from numba's cache) by a small
warm-up run first.  ``--repeat`` runs each several times, interleaved, and reports
the fastest of each (and all).

Usage::

    python benchmarks/bench_optimize.py                       # 20 trials x 30 days x 50k queries/day
    python benchmarks/bench_optimize.py --trials 10 --volume 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numba  # noqa: E402  (after NUMBA_NUM_THREADS)

import costsim as cs  # noqa: E402
from costsim.demo import demo_options, demo_traffic  # noqa: E402
from costsim.decide import optimize  # noqa: E402

TARGET_RATIO = 1.5
SEED = 20260105


def scenario(days: int, volume: float) -> tuple[cs.Traffic, dict]:
    """The benchmark's traffic and base options."""
    options = {
        "api": demo_options()["frontier"],
        "ptu": cs.ProvisionedCapacity(units=10, price_per_unit_hour=1.0, tokens_per_minute=20_000,
                                      output_weight=4.0, fallback="api"),
    }
    return demo_traffic(days=days, volume=volume), options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--volume", type=float, default=50_000.0, help="queries a day")
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    traffic, options = scenario(args.days, args.volume)
    search = {"ptu.units": range(1, args.candidates + 1)}
    kwargs = {"objective": ("cvar", 0.95), "constraints": {"throttled_share": 0.0}, "progress": False}

    started = time.perf_counter()  # compile or load the kernel, and warm up the billing
    small, _ = scenario(1, 1_000.0)
    cs.simulate(small, options, trials=2, seed=1, progress=False)
    optimize(small, options, {"ptu.units": [1, 2]}, trials=2, seed=1, **kwargs)
    warm = time.perf_counter() - started

    sim_times, opt_times = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ds = cs.simulate(traffic, options, trials=args.trials, seed=SEED, progress=False)
        sim_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = optimize(traffic, options, search, trials=args.trials, seed=SEED, **kwargs)
        opt_times.append(time.perf_counter() - t0)
    queries = float(ds["requests"].sum())
    sim, opt = min(sim_times), min(opt_times)
    ratio = opt / sim
    print(f"costsim {cs.__version__}, numba {numba.__version__}, {numba.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}")
    print(f"scenario: demo product, {args.trials} trials x {args.days} days x {args.volume:,.0f} queries/day "
          f"= {queries:,.0f} queries simulated; compile/warm-up {warm:.1f} s")
    print(f"simulate (base options: api, ptu)        {sim:8.2f} s   {queries / sim / 1e6:6.1f} M queries/s")
    print(f"optimize ({args.candidates} candidates of ptu.units)      {opt:8.2f} s")
    if args.repeat > 1:
        print(f"  all runs: simulate {[round(t, 2) for t in sim_times]}, optimize {[round(t, 2) for t in opt_times]}")
    print(f"ratio optimize / simulate: {ratio:.2f} (target <= {TARGET_RATIO})")
    print(f"chosen plan: {result.best}; {result.dataset.attrs['objective']} "
          f"{result.objective:,.0f} USD; frontier of {int(result.dataset['on_frontier'].sum())} candidates")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
