#!/usr/bin/env python
"""``costsim.simulate`` on a local Dask cluster: 1 worker process against 2.

The scenario is the one of ``bench_kernel.py`` (its constants are imported from it):
two query classes with lognormal tokens, a cached fraction, one ``TokenPricing`` with
a long-context tier, 30 days of 1-hour bins.  Dask spreads *trials*, so the expected
``--size`` requests are split over ``--trials`` trials (``size / trials`` each).

For each worker count a fresh ``distributed.LocalCluster(n_workers=N,
threads_per_worker=1, processes=True)`` starts with ``NUMBA_NUM_THREADS=1`` in the
workers; every worker first runs one tiny ``simulate`` (numba cache load or compile,
reported as "warm-up"), then its peak-RSS mark is reset and the timed
``simulate(..., client=client)`` runs with the same seed.  Printed: wall time of
each run, the ratio, the peak RSS of each worker during the timed run
(``resource.getrusage`` ``ru_maxrss``, asked through ``client.run``), and whether
the results are identical (``xr.testing.assert_identical`` and exact array equality).

Usage::

    python benchmarks/bench_dask.py                 # 1e9 requests, 8 trials, 1 vs 2 workers
    python benchmarks/bench_dask.py --size 1e8      # a quick check
    python benchmarks/bench_dask.py --size 1e9 --trials 16 --trials-per-task 2
"""

from __future__ import annotations

import os

# Before anything imports numba: the spawned worker processes inherit this environment
# (and re-import this file), so each worker runs the kernel on one thread.
for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

SEED = 20260105
MiB = 1024.0  # ru_maxrss is in KiB on Linux


# ------------------------------------------------------------------------------------
# Run on the workers (defined in __main__, so pickled by value)
# ------------------------------------------------------------------------------------
def _worker_warmup(traffic, options):
    import costsim as cs

    t0 = time.perf_counter()
    cs.simulate(traffic, options, trials=1, seed=1)
    return time.perf_counter() - t0


def _worker_threads():
    import numba

    return numba.get_num_threads()


def _worker_reset_peak():
    """bench_kernel's peak-RSS reset, run in a worker (False if unavailable)."""
    import bench_kernel

    return bench_kernel._reset_peak()


def _worker_maxrss_mib():
    import bench_kernel

    return bench_kernel._maxrss_mib()


# ------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------
def _scenario(size, trials):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_kernel as bk

    traffic, options = bk._costsim_objects(size / trials, 2)  # expected size / trials requests a trial
    warm_traffic, warm_options = bk._costsim_objects(bk.WARMUP_SIZE, 2)
    return traffic, options, warm_traffic, warm_options


def run_cluster(n_workers, args, traffic, options, warm_traffic, warm_options):
    import distributed

    import costsim as cs

    env = {var: "1" for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    t0 = time.perf_counter()
    with distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, env=env,
        memory_limit=0,
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(n_workers)
        start_s = time.perf_counter() - t0
        threads = set(client.run(_worker_threads).values())
        warm = client.run(_worker_warmup, warm_traffic, warm_options)
        reset = all(client.run(_worker_reset_peak).values())
        t0 = time.perf_counter()
        ds = cs.simulate(traffic, options, trials=args.trials, seed=SEED, client=client,
                         trials_per_task=args.trials_per_task)
        seconds = time.perf_counter() - t0
        peak = client.run(_worker_maxrss_mib)
    return {
        "workers": n_workers,
        "numba_threads": sorted(threads),
        "start_s": start_s,
        "warm_s": max(warm.values()),
        "seconds": seconds,
        "peak_mib": [peak[w] for w in sorted(peak)],
        "peak_reset": reset,
        "ds": ds,
    }


def identical(a, b):
    import numpy as np
    import xarray as xr

    try:
        xr.testing.assert_identical(a, b)
        for name in [*a.data_vars, *a.coords]:
            if a[name].dtype != b[name].dtype or not np.array_equal(a[name].values, b[name].values):
                return False
    except AssertionError:
        return False
    return a.attrs == b.attrs


def parse_size(text):
    value = float(text)
    if not (value >= 1 and value == math.floor(value)):
        raise argparse.ArgumentTypeError(f"--size must be a positive integer such as 1e9; got {text!r}")
    return int(value)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=10**9, help="expected requests in all (default 1e9)")
    ap.add_argument("--trials", type=int, default=8, help="trials the requests are split over (default 8)")
    ap.add_argument("--trials-per-task", type=int, default=None,
                    help="trials per Dask task (default: about two tasks per worker)")
    ap.add_argument("--workers", default="1,2",
                    help="comma-separated worker-process counts to compare, the first is the baseline (default 1,2)")
    args = ap.parse_args(argv)
    if args.trials < 1:
        ap.error("--trials must be >= 1")
    if args.trials_per_task is not None and args.trials_per_task < 1:
        ap.error("--trials-per-task must be >= 1")
    try:
        workers = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        ap.error(f"--workers must be integers such as 1,2; got {args.workers!r}")
    if not workers or min(workers) < 1:
        ap.error(f"--workers must be integers >= 1; got {args.workers!r}")

    import dask
    import distributed
    import numba
    import numpy as np

    import costsim

    print(f"costsim {costsim.__version__}, dask {dask.__version__}, distributed {distributed.__version__}, "
          f"numba {numba.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")
    print(f"scenario: bench_kernel.py's two classes and tiered pricing, 30 days of 1h bins; "
          f"{args.size:.3g} expected requests over {args.trials} trials ({args.size / args.trials:.3g} each); "
          f"seed {SEED}; tasks of {args.trials_per_task or 'auto'} trials")
    traffic, options, warm_traffic, warm_options = _scenario(args.size, args.trials)

    rows = []
    for n in workers:
        print(f"running {n} worker process(es) x 1 thread ...", flush=True)
        rows.append(run_cluster(n, args, traffic, options, warm_traffic, warm_options))

    base = rows[0]
    requests = int(base["ds"]["requests"].values.sum())
    print(f"\nrequests simulated: {requests:,}")
    print(f"{'workers':>7} {'numba thr':>9} {'start s':>8} {'warm-up s':>9} {'seconds':>8} {'M req/s':>8} "
          f"{'speed-up':>8}  peak RSS per worker (MiB)")
    for r in rows:
        print(f"{r['workers']:>7} {','.join(map(str, r['numba_threads'])):>9} {r['start_s']:>8.2f} "
              f"{r['warm_s']:>9.2f} {r['seconds']:>8.2f} {requests / r['seconds'] / 1e6:>8.1f} "
              f"{base['seconds'] / r['seconds']:>8.2f}  " + ", ".join(f"{m:.0f}" for m in r["peak_mib"]))
    if not all(r["peak_reset"] for r in rows):
        print("(the peak-RSS mark could not be reset: peaks include the warm-up)")
    ok = True
    for r in rows[1:]:
        same = identical(base["ds"], r["ds"])
        ok &= same
        print(f"results of {base['workers']} and {r['workers']} workers identical: {'yes' if same else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
