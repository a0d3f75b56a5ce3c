#!/usr/bin/env python
"""The kernel with every per-token price modifier active, against the core scenario.

Same traffic and sizes as ``bench_kernel.py`` (two lognormal classes, 30 days of
1-hour bins, cached fraction 0.3, the 16-per-octave cost histogram); three runs of
each scenario, alternating, in one process, one numba thread; the fastest of each
is reported, so the ratio is measured under the same conditions:

* ``core``: bench_kernel's option (input / output / cached rates, one long-context tier);
* ``stacked``: one option with two long-context tiers, 5-minute AND 1-hour cache
  writes (``cache_write_fraction`` on both classes), the ``batch`` service tier for
  one class (its card with its own tiers), off-peak rates for the other (weekday
  nights and weekends: about half the bins; off-peak applies to the standard
  tier), a regional multiplier, a fee per request and a minimum charge;
* ``capacity``: the core option plus a ProvisionedCapacity and a SelfHostedGPU that
  spill to it, to show what per-bin capacity billing adds after the kernel.

Usage::

    python benchmarks/bench_pricing.py                 # 3e7 requests
    python benchmarks/bench_pricing.py --size 1e8 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_kernel as core  # noqa: E402  (after NUMBA_NUM_THREADS)


def scenarios(size):
    import dataclasses

    import costsim as cs

    traffic, options = core._costsim_objects(size, 2)
    api = options["api"]
    chat, rag = traffic.classes
    stacked_traffic = dataclasses.replace(traffic, classes=(
        dataclasses.replace(chat, cache_write_fraction=0.05),
        dataclasses.replace(rag, cache_write_fraction=0.1, cache_write_ttl="1h", service_tier="batch"),
    ))

    def card(scale):
        return cs.RateCard(
            input=3.0 * scale, output=15.0 * scale, cached_input=0.3 * scale, cache_write=3.75 * scale,
            cache_write_1h=6.0 * scale,
            long_context=[cs.LongContextTier(24_000, input=6.0 * scale, output=22.5 * scale),
                          cs.LongContextTier(64_000, input=9.0 * scale, output=30.0 * scale)],
        )

    standard = card(1.0)
    stacked = cs.TokenPricing(
        **{f.name: getattr(standard, f.name) for f in dataclasses.fields(standard)},
        service_tiers={"batch": card(0.5)},
        off_peak=cs.OffPeak(rates=card(0.6), windows=[cs.OffPeakWindow((1, 2, 3, 4, 5), "00:00", "08:00"),
                                                      cs.OffPeakWindow((6, 7), "00:00", "00:00")]),
        multiplier=1.1, fee_per_request=1e-5, minimum_charge=1e-6,
    )
    ptu = cs.ProvisionedCapacity(units=4, price_per_unit_hour=2.0, tokens_per_minute=size / 30 / 24 / 60 * 600,
                                 fallback="api")
    gpu = cs.SelfHostedGPU(gpu_hour_price=2.5, prefill_tokens_per_s=20_000, decode_tokens_per_s=1_500,
                           max_replicas=50, scale_lag="1h", fallback="api")
    return {
        "core": (traffic, {"api": api}),
        "stacked": (stacked_traffic, {"stacked": stacked}),
        "capacity": (traffic, {"api": api, "ptu": ptu, "gpu": gpu}),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=float, default=3e7, help="expected requests per run (default 3e7)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each scenario, alternating (default 3)")
    args = ap.parse_args(argv)

    import numba

    import costsim as cs

    runs = scenarios(int(args.size))
    for traffic, options in scenarios(10_000).values():  # compile / load the cache
        cs.simulate(traffic, options, trials=1, seed=1)
    best = {name: (float("inf"), float("inf"), 0) for name in runs}
    for _ in range(args.repeat):
        for name, (traffic, options) in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            ds = cs.simulate(traffic, options, trials=1, seed=core.FUSED_SEED)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            n = int(ds["requests"].sum())
            best[name] = min(best[name], (wall, cpu, n))
            if name == "stacked":  # every modifier really is in play
                off_peak = options["stacked"].off_peak.contains(ds["time"].values)
                writes = int(ds["cache_write_tokens"].sum())
                assert 0.3 < off_peak.mean() < 0.7 and writes > 0, (off_peak.mean(), writes)
    print(f"costsim {cs.__version__}, numba {numba.__version__}, {numba.get_num_threads()} thread(s), "
          f"fastest of {args.repeat}")
    print(f"{'scenario':<10} {'requests':>12} {'wall s':>8} {'cpu s':>8} {'M req/s':>8} {'vs core':>8}")
    core_rate = best["core"][2] / best["core"][1]
    for name, (wall, cpu, n) in best.items():
        rate = n / cpu
        print(f"{name:<10} {n:>12,} {wall:>8.2f} {cpu:>8.2f} {rate / 1e6:>8.1f} {rate / core_rate:>8.2f}")
    print("M req/s from process CPU time (robust to other processes on the machine); 'vs core' is the ratio "
          "of those rates in this run. Acceptance: stacked >= 0.80.")
    ratio = (best["stacked"][2] / best["stacked"][1]) / core_rate
    return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
