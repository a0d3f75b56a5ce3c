#!/usr/bin/env python
"""``costsim.fit_traffic`` on synthetic request logs of 1e5 to 1e7 rows over 30 days.

The log, the same shape at every size (seeded):

* 30 days from Monday 2026-01-05, arrivals with a daily profile (the busiest hour
  about 4x the quietest), times in float seconds;
* two query classes: ``chat`` (70 %) with input ~ LogNormal(6.4, 1.0) capped at a
  context limit of 8,192 tokens (0.5 % of its rows: too few to be fitted as a cap)
  and output ~ LogNormal(5.3, 0.7); ``rag`` (30 %) with input ~ LogNormal(9.2, 0.8)
  capped at 32,768 (a pile of 6.7 %, fitted as a cap) and output ~ LogNormal(5.8,
  0.6); tokens rounded to integers;
* a pandas DataFrame with columns ``timestamp``, ``input_tokens``,
  ``output_tokens`` and ``qclass`` (strings), as ``pd.read_csv`` would give it.

Every size runs in a fresh subprocess (``bench_fit.py --worker SIZE``): it builds the
log, resets the peak-RSS mark (``/proc/self/clear_refs``), then times
``fit_traffic(log)`` with the default arguments (all families, caps found
automatically, latent segments, one-minute bins): wall seconds, and process CPU
seconds (robust to other processes on a shared machine; numba and BLAS run on
one thread).  **peak MiB** is ``ru_maxrss`` during the fit (the log the process
holds included), **+MiB** that peak minus the RSS just before the fit: the memory
the fit itself needed.

Usage::

    python benchmarks/bench_fit.py                   # sizes 1e5, 1e6, 1e7
    python benchmarks/bench_fit.py --sizes 1e5,1e6
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_kernel as core  # noqa: E402  (after NUMBA_NUM_THREADS)

DAYS = 30
START = "2026-01-05"
SEED = 20260105
# name, share, (mu, sigma) of input tokens, context limit, (mu, sigma) of output tokens
CLASSES = [
    ("chat", 0.7, (6.4, 1.0), 8_192, (5.3, 0.7)),
    ("rag", 0.3, (9.2, 0.8), 32_768, (5.8, 0.6)),
]
TARGET_SECONDS = 60.0
TARGET_MIB = 3 * 1024.0


def synthetic_log(size: int, seed: int = SEED):
    """The benchmark's log of ``size`` rows (a DataFrame)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    hour_rate = 1.0 + 0.6 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)  # peak ~3 pm, trough ~3 am
    hour = rng.choice(24, size=size, p=hour_rate / hour_rate.sum())
    seconds = rng.integers(DAYS, size=size) * 86_400.0 + hour * 3_600.0 + rng.uniform(0, 3_600, size)
    seconds.sort()
    shares = np.array([share for _, share, _, _, _ in CLASSES])
    kind = rng.choice(len(CLASSES), size=size, p=shares)
    input_tokens = np.empty(size, dtype=np.int64)
    output_tokens = np.empty(size, dtype=np.int64)
    for k, (_, _, (mu_in, sd_in), limit, (mu_out, sd_out)) in enumerate(CLASSES):
        rows = np.flatnonzero(kind == k)
        input_tokens[rows] = np.minimum(np.round(rng.lognormal(mu_in, sd_in, rows.size)), limit)
        output_tokens[rows] = np.round(rng.lognormal(mu_out, sd_out, rows.size))
    names = np.array([name for name, _, _, _, _ in CLASSES], dtype=object)
    start = pd.Timestamp(START).timestamp()
    return pd.DataFrame({"timestamp": start + seconds, "input_tokens": input_tokens,
                         "output_tokens": output_tokens, "qclass": names[kind]})


def worker(size: int) -> dict:
    import costsim as cs

    base = core._maxrss_mib()
    log = synthetic_log(size)
    before = core._current_rss_mib()
    reset = core._reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few float timestamps repeat in the largest logs: kept, as by default
        fit = cs.fit_traffic(log)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = core._maxrss_mib()
    return {"size": size, "rows": len(fit.log), "classes": len(fit.classes), "seconds": wall, "cpu": cpu,
            "base_mib": base, "log_mib": before - base, "peak_mib": peak, "plus_mib": peak - before,
            "reset": reset, "volume": fit.arrivals.volume}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e5,1e6,1e7", help="log rows, comma-separated (default 1e5,1e6,1e7)")
    ap.add_argument("--worker", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        print(core.RESULT_TAG + json.dumps(worker(int(args.worker))), flush=True)
        return 0

    import costsim as cs

    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    print(f"costsim {cs.__version__}, python {platform.python_version()}, {os.cpu_count()} CPU(s); "
          f"fit_traffic with default arguments, one fresh process per size")
    print(f"{'rows':>12} {'query classes':>14} {'seconds':>9} {'cpu s':>8} {'rows/s':>11} {'log MiB':>8} "
          f"{'peak MiB':>9} {'+MiB':>8}")
    ok = True
    for size in sizes:
        env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", str(size)],
                             capture_output=True, text=True, env=env)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith(core.RESULT_TAG)]
        if out.returncode or not lines:
            print(f"{size:>12,} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
            ok = False
            continue
        r = json.loads(lines[-1][len(core.RESULT_TAG):])
        print(f"{r['rows']:>12,} {r['classes']:>14} {r['seconds']:>9.2f} {r['cpu']:>8.2f} "
              f"{r['rows'] / r['seconds']:>11,.0f} {r['log_mib']:>8.0f} {r['peak_mib']:>9.0f} {r['plus_mib']:>8.0f}")
        if not r["reset"]:
            print("  note: /proc/self/clear_refs unavailable: 'peak MiB' includes building the log")
        ok &= r["seconds"] < TARGET_SECONDS and r["peak_mib"] < TARGET_MIB
    print("seconds: wall time of fit_traffic; cpu s: its process CPU time (other processes on the machine do not "
          "inflate it); log MiB: RSS the synthetic log added; peak MiB: ru_maxrss during the fit, log included; "
          "+MiB: peak minus RSS before the fit.")
    print(f"Target (issue 11): every size under {TARGET_SECONDS:.0f} s and {TARGET_MIB:.0f} MiB peak: "
          f"{'met' if ok else 'NOT met'}.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
