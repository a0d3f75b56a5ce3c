#!/usr/bin/env python
"""Fused numba kernel (``costsim.simulate``) against a plain NumPy version of the same model.

The model, identical on both sides:

* one trial, 30 days of 1-hour bins (720 bins), a flat profile; the daily volume is
  ``size / 30`` so the expected total is ``size`` requests; each (bin, class) count
  is Poisson;
* two query classes (or one with ``--classes 1``) with lognormal input and output tokens
  (rounded half up, >= 0), one call per query, a constant cached-input fraction
  (``cached = floor(frac * prompt + 0.5)``);
* one ``TokenPricing`` with input / output / cached-input rates and one
  long-context tier (the whole call at the tier's rates when ``prompt > threshold``;
  the threshold is exceeded by a few % of requests);
* outputs: cost and input / output / cached token sums per (time bin, class), and a
  per-request cost histogram with log-spaced bins, 16 per octave, on the edges of
  :class:`costsim.results.CostHistogram`.

Every (implementation, size, threads) runs in a fresh subprocess
(``bench_kernel.py --worker ...``) so ``ru_maxrss`` is the peak of that run alone.
See benchmarks/README.md for the columns and how timing is done.

Usage::

    python benchmarks/bench_kernel.py                       # sizes 1e6,1e7,1e8; threads 1,2
    python benchmarks/bench_kernel.py --sizes 1e6,1e7 --threads 1,2
    python benchmarks/bench_kernel.py --big                 # one 1e9-request fused run, 2 threads
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time

# ------------------------------------------------------------------------------------
# The scenario (shared by both implementations)
# ------------------------------------------------------------------------------------
DAYS = 30
HORIZON = f"{DAYS}D"
BIN = "1h"
CACHED_FRACTION = 0.3
# name, share, (mu, sigma) of input tokens, (mu, sigma) of output tokens
CLASSES = [
    ("chat", 0.75, (6.4, 1.0), (5.3, 0.7)),  # median prompt ~600 tokens
    ("rag", 0.25, (9.2, 0.8), (5.8, 0.6)),  # median prompt ~9,900 tokens
]
# --classes 1: a single, wider class that still crosses the tier threshold a few % of the time
ONE_CLASS = [("chat", 1.0, (7.6, 1.3), (5.4, 0.7))]  # median prompt ~2,000 tokens
RATES = {"input": 3.0, "output": 15.0, "cached_input": 0.3}  # USD per 1M tokens
TIER = {"threshold": 24_000, "input": 6.0, "output": 22.5, "cached_input": 0.6}
HIST_RANGE = (1e-7, 1e3)
HIST_PER_OCTAVE = 16
WARMUP_SIZE = 10_000
FUSED_SEED = 20260105
NUMPY_SEED = 777
Z_LIMIT = 4.0  # |difference of means| / standard error for PASS
CHI2_P_LIMIT = 1e-4  # histogram two-sample chi-square p-value for PASS
RESULT_TAG = "@@RESULT@@ "
MiB = 1024.0  # ru_maxrss is in KiB on Linux


def classes(n_classes):
    chosen = ONE_CLASS if n_classes == 1 else CLASSES
    total = sum(share for _, share, _, _ in chosen)
    return [(name, share / total, inp, out) for name, share, inp, out in chosen]


def tier_fraction(n_classes):
    """Expected share of requests whose prompt exceeds the tier threshold."""
    from scipy.stats import norm

    # rounding half up: prompt > T  <=>  x >= T + 0.5
    x = math.log(TIER["threshold"] + 0.5)
    return sum(share * norm.sf((x - mu) / sigma) for _, share, (mu, sigma), _ in classes(n_classes))


# ------------------------------------------------------------------------------------
# Worker side (runs in its own process)
# ------------------------------------------------------------------------------------
def _maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MiB


def _current_rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / MiB
    except OSError:
        pass
    return float("nan")


def _reset_peak():
    """Reset the peak-RSS high-water mark (Linux >= 4.0: also resets ru_maxrss), so the
    next ``_maxrss_mib()`` is the peak of what runs after this call. False if unavailable."""
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _costsim_objects(size, n_classes):
    import costsim as cs

    traffic = cs.Traffic(
        [
            cs.QueryClass(name, share, cs.LogNormal(*inp), cs.LogNormal(*out), cached_fraction=CACHED_FRACTION)
            for name, share, inp, out in classes(n_classes)
        ],
        cs.Arrivals(volume=size / DAYS, horizon=HORIZON, bin=BIN),
    )
    pricing = cs.TokenPricing(
        input=RATES["input"], output=RATES["output"], cached_input=RATES["cached_input"],
        long_context=[cs.LongContextTier(TIER["threshold"], input=TIER["input"], output=TIER["output"],
                                         cached_input=TIER["cached_input"])],
    )
    return traffic, {"api": pricing}


def run_fused(size, n_classes, repeat):
    """Time ``costsim.simulate`` (after a warm-up call) on the scenario."""
    import numba
    import numpy as np

    import costsim as cs

    base_rss = _maxrss_mib()
    # Optional: time the kernel call alone by wrapping the attribute simulate() looks
    # up at call time.  Library code is untouched; if the name moves, report n/a.
    import costsim.kernels as kernels_mod

    kernel_times = []
    original = getattr(kernels_mod, "simulate_kernel", None)
    if original is not None:
        def timed_kernel(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                kernel_times.append(time.perf_counter() - t0)

        kernels_mod.simulate_kernel = timed_kernel

    traffic, options = _costsim_objects(WARMUP_SIZE, n_classes)
    t0 = time.perf_counter()
    cs.simulate(traffic, options, trials=1, seed=1)
    load_s = time.perf_counter() - t0
    warm_rss = _maxrss_mib()
    kernel_times.clear()

    traffic, options = _costsim_objects(size, n_classes)
    reset = _reset_peak()
    before_rss = _current_rss_mib()
    times, kernels = [], []
    for _ in range(repeat):
        kernel_times.clear()
        t0 = time.perf_counter()
        ds = cs.simulate(traffic, options, trials=1, seed=FUSED_SEED)
        times.append(time.perf_counter() - t0)
        kernels.append(sum(kernel_times) if kernel_times else None)
    best = min(range(repeat), key=times.__getitem__)
    kernel_s = kernels[best]
    peak_rss = _maxrss_mib()

    hist = ds["cost_hist"].values.sum(axis=(0, 1, 2))
    return {
        "threads": numba.get_num_threads(),
        "requests": int(ds["requests"].values.sum()),
        "seconds": times[best],
        "all_seconds": times,
        "kernel_s": kernel_s,
        "load_s": load_s,
        "base_rss": base_rss,
        "warm_rss": warm_rss,
        "before_rss": before_rss,
        "peak_rss": peak_rss,
        "peak_reset": reset,
        "cost": float(ds["cost"].values.sum()),
        "input_tokens": int(ds["input_tokens"].values.sum()),
        "output_tokens": int(ds["output_tokens"].values.sum()),
        "cached_tokens": int(ds["cached_tokens"].values.sum()),
        "hist": [int(v) for v in hist],
        "cost_by_bin_sha": _digest(ds["cost"].values),
        "hist_sha": _digest(np.asarray(hist)),
    }


def _digest(a):
    import hashlib

    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def run_numpy(size, n_classes, chunk_requests, repeat):
    """The same model in plain NumPy: materialised per-request arrays, chunked by bins."""
    import numpy as np

    import costsim as cs
    from costsim.results import CostHistogram

    base_rss = _maxrss_mib()
    histogram = CostHistogram.from_range(HIST_RANGE, HIST_PER_OCTAVE)
    edges = histogram.upper[:-1]  # the inner edges; bin k holds edges[k-1] <= cost < edges[k]
    n_hist = histogram.n_bins
    expected = cs.Arrivals(volume=size / DAYS, horizon=HORIZON, bin=BIN).expected_requests()
    n_bins = expected.shape[0]
    cls = classes(n_classes)
    if chunk_requests > 0:
        bins_per_chunk = min(n_bins, max(1, int(chunk_requests // max(expected.mean(), 1.0))))
    else:
        bins_per_chunk = n_bins  # unchunked: the whole horizon at once

    def simulate_numpy(rng):
        cost_tb = np.zeros((n_bins, n_classes))
        tokens_tb = {k: np.zeros((n_bins, n_classes), dtype=np.int64) for k in ("input", "output", "cached")}
        requests_tb = np.zeros((n_bins, n_classes), dtype=np.int64)
        hist = np.zeros((n_classes, n_hist), dtype=np.int64)
        sum_sq = 0.0  # of per-request cost, for the standard error of the check
        sum_sq_tok = {"input": 0.0, "output": 0.0, "cached": 0.0}
        in_tier = 0
        for b0 in range(0, n_bins, bins_per_chunk):
            b1 = min(n_bins, b0 + bins_per_chunk)
            for c, (_, share, (mu_in, sd_in), (mu_out, sd_out)) in enumerate(cls):
                counts = rng.poisson(expected[b0:b1] * share)
                n = int(counts.sum())
                # tokens: rounded half up, kept as float64 (integers < 2**53 are exact)
                prompt = np.floor(rng.lognormal(mu_in, sd_in, n) + 0.5)
                output = np.floor(rng.lognormal(mu_out, sd_out, n) + 0.5)
                cached = np.floor(CACHED_FRACTION * prompt + 0.5)
                long = prompt > TIER["threshold"]
                r_in = np.where(long, TIER["input"], RATES["input"])
                r_out = np.where(long, TIER["output"], RATES["output"])
                r_cached = np.where(long, TIER["cached_input"], RATES["cached_input"])
                cost = ((prompt - cached) * r_in + cached * r_cached + output * r_out) * 1e-6
                # per time bin sums
                t_idx = np.repeat(np.arange(b1 - b0), counts)
                requests_tb[b0:b1, c] = counts
                cost_tb[b0:b1, c] = np.bincount(t_idx, weights=cost, minlength=b1 - b0)
                for key, arr in (("input", prompt), ("output", output), ("cached", cached)):
                    tokens_tb[key][b0:b1, c] = np.bincount(t_idx, weights=arr, minlength=b1 - b0).astype(np.int64)
                    sum_sq_tok[key] += float(np.dot(arr, arr))
                # per-request cost histogram
                hist[c] += np.bincount(np.searchsorted(edges, cost, side="right"), minlength=n_hist)
                sum_sq += float(np.dot(cost, cost))
                in_tier += int(np.count_nonzero(long))
        return requests_tb, cost_tb, tokens_tb, hist, sum_sq, sum_sq_tok, in_tier

    reset = _reset_peak()
    before_rss = _current_rss_mib()
    times = []
    for _ in range(repeat):
        rng = np.random.default_rng(NUMPY_SEED)
        t0 = time.perf_counter()
        out = simulate_numpy(rng)
        times.append(time.perf_counter() - t0)
    requests_tb, cost_tb, tokens_tb, hist, sum_sq, sum_sq_tok, in_tier = out
    peak_rss = _maxrss_mib()
    return {
        "threads": 1,
        "requests": int(requests_tb.sum()),
        "seconds": min(times),
        "all_seconds": times,
        "kernel_s": None,
        "load_s": None,
        "base_rss": base_rss,
        "warm_rss": None,
        "before_rss": before_rss,
        "peak_rss": peak_rss,
        "peak_reset": reset,
        "cost": float(cost_tb.sum()),
        "cost_sq": sum_sq,
        "input_tokens": int(tokens_tb["input"].sum()),
        "output_tokens": int(tokens_tb["output"].sum()),
        "cached_tokens": int(tokens_tb["cached"].sum()),
        "tok_sq": sum_sq_tok,
        "in_tier": in_tier,
        "hist": [int(v) for v in hist.sum(axis=0)],
        "bins_per_chunk": bins_per_chunk,
    }


def worker_main(args):
    if args.worker == "fused":
        res = run_fused(args.size, args.classes, args.repeat)
    elif args.worker == "numpy":
        res = run_numpy(args.size, args.classes, args.chunk, args.repeat)
    elif args.worker == "prime":
        import costsim as cs

        t0 = time.perf_counter()
        traffic, options = _costsim_objects(WARMUP_SIZE, args.classes)
        cs.simulate(traffic, options, trials=1, seed=1)
        res = {"load_s": time.perf_counter() - t0, "peak_rss": _maxrss_mib()}
    else:  # pragma: no cover
        raise SystemExit(f"unknown worker {args.worker!r}")
    print(RESULT_TAG + json.dumps(res), flush=True)


# ------------------------------------------------------------------------------------
# Driver side
# ------------------------------------------------------------------------------------
def parse_sizes(text):
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if part:
            value = float(part)
            if not (value >= 1 and value == math.floor(value)):
                raise argparse.ArgumentTypeError(f"--sizes: each size must be a positive integer; got {part!r}")
            sizes.append(int(value))
    if not sizes:
        raise argparse.ArgumentTypeError("--sizes must not be empty")
    return sizes


def parse_threads(text):
    try:
        threads = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threads must be integers such as 1,2; got {text!r}") from None
    if not threads or min(threads) < 1:
        raise argparse.ArgumentTypeError(f"--threads must be integers >= 1; got {text!r}")
    return threads


def spawn(kind, size, threads, args):
    env = dict(os.environ)
    env["NUMBA_NUM_THREADS"] = str(threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # keep NumPy's (BLAS) side single-threaded and comparable
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--size", str(size),
           "--classes", str(args.classes), "--chunk", str(args.chunk), "--repeat", str(args.repeat)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {kind} size={size} threads={threads} failed (exit {proc.returncode})")
    res = json.loads(lines[-1][len(RESULT_TAG):])
    res.update(impl=kind, size=size, process_s=wall, requested_threads=threads)
    return res


def _fmt(v, spec, missing="-"):
    return missing if v is None else format(v, spec)


def print_table(rows):
    numpy_rate = {r["size"]: r["requests"] / r["seconds"] for r in rows if r["impl"] == "numpy"}
    header = ("impl", "thr", "requests", "load s", "seconds", "kernel s", "M req/s", "M/s/thr",
              "base MiB", "warm MiB", "peak MiB", "+MiB", "fused/NumPy")
    widths = (5, 3, 13, 6, 8, 8, 7, 7, 8, 8, 8, 6, 11)
    line = "  ".join(h.rjust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        rate = r["requests"] / r["seconds"]
        ratio = rate / numpy_rate[r["size"]] if r["size"] in numpy_rate else None
        cells = (
            r["impl"], str(r["threads"]), f"{r['requests']:,}", _fmt(r["load_s"], ".2f"),
            f"{r['seconds']:.3f}", _fmt(r["kernel_s"], ".3f"), f"{rate / 1e6:.2f}",
            f"{rate / 1e6 / r['threads']:.2f}", f"{r['base_rss']:.0f}", _fmt(r["warm_rss"], ".0f"),
            f"{r['peak_rss']:.0f}", f"{max(r['peak_rss'] - r['before_rss'], 0.0):.0f}", _fmt(ratio, ".2f"),
        )
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths)))
    if not all(r["peak_reset"] for r in rows):
        print("note: /proc/self/clear_refs unavailable: 'peak MiB' is the whole process's peak, warm-up included")


def _chi2_two_sample(a, b, min_total=100):
    """p-value of a chi-square test that two histograms share one distribution,
    after merging adjacent bins until each merged bin holds >= min_total counts."""
    import numpy as np
    from scipy.stats import chi2_contingency

    merged_a, merged_b, acc_a, acc_b = [], [], 0, 0
    for x, y in zip(a, b):
        acc_a += x
        acc_b += y
        if acc_a + acc_b >= min_total:
            merged_a.append(acc_a)
            merged_b.append(acc_b)
            acc_a = acc_b = 0
    if acc_a + acc_b and merged_a:
        merged_a[-1] += acc_a
        merged_b[-1] += acc_b
    if len(merged_a) < 2:
        return float("nan"), len(merged_a)
    return float(chi2_contingency(np.array([merged_a, merged_b]))[1]), len(merged_a)


def check_same_model(rows):
    """Fused and NumPy runs agree on mean per-request cost (and tokens, histogram)."""
    print("\nSame-model check (fused vs NumPy, different random numbers; "
          f"PASS if |diff| < {Z_LIMIT:g} standard errors, histogram chi-square p > {CHI2_P_LIMIT:g}):")
    ok = True
    by_size = {}
    for r in rows:
        by_size.setdefault(r["size"], []).append(r)
    for size, group in by_size.items():
        ref = next((r for r in group if r["impl"] == "numpy"), None)
        if ref is None:
            continue
        n_ref = ref["requests"]
        fused_rows = [r for r in group if r["impl"] == "fused"]
        print(f"  size {size:.0e}: NumPy {n_ref:,} requests, {ref['in_tier'] / n_ref:.2%} in the long-context "
              f"tier (expected {tier_fraction(args_global.classes):.2%})")
        for r in fused_rows:
            n = r["requests"]
            line = [f"    fused thr={r['threads']}:"]
            for key, label, sq in (
                ("cost", "mean cost USD", ref["cost_sq"]),
                ("input_tokens", "mean prompt", ref["tok_sq"]["input"]),
                ("output_tokens", "mean output", ref["tok_sq"]["output"]),
                ("cached_tokens", "mean cached", ref["tok_sq"]["cached"]),
            ):
                m_ref = ref[key] / n_ref
                m = r[key] / n
                sd = math.sqrt(max(sq / n_ref - m_ref * m_ref, 0.0))  # per-request std (NumPy sample)
                se = sd * math.sqrt(1.0 / n + 1.0 / n_ref)
                z = abs(m - m_ref) / se if se > 0 else float("inf")
                passed = z < Z_LIMIT
                ok &= passed
                fmt = ".6g" if key == "cost" else ".2f"
                line.append(f"{label} {m:{fmt}} vs {m_ref:{fmt}} (z={z:.2f}) {'PASS' if passed else 'FAIL'};")
            p, k = _chi2_two_sample(r["hist"], ref["hist"])
            passed = p > CHI2_P_LIMIT
            ok &= passed
            line.append(f"histogram p={p:.3g} over {k} merged bins {'PASS' if passed else 'FAIL'}")
            print(" ".join(line[:2]))
            print("      " + " ".join(line[2:4]))
            print("      " + " ".join(line[4:]))
        shas = {(r["cost_by_bin_sha"], r["hist_sha"]) for r in fused_rows}
        if len(fused_rows) > 1:
            same = len(shas) == 1
            print(f"    fused results bit-identical across threads {sorted(r['threads'] for r in fused_rows)}: "
                  f"{'yes' if same else 'NO'}")
            ok &= same
    print(f"  overall: {'PASS' if ok else 'FAIL'}")
    return ok


def check_flat_memory(rows):
    """Is the fused run's memory independent of the request count?

    Judged on '+MiB' (peak of the timed run minus the RSS just before it): the
    absolute peak also holds whatever the warm-up left resident, which is ~80 MiB
    more when the warm-up had to compile instead of loading numba's cache.
    """
    fused = [r for r in rows if r["impl"] == "fused"]
    print("\nFused memory of the timed run vs size (flat = '+MiB' spread <= 16 MiB):")
    all_flat = True
    for thr in sorted({r["threads"] for r in fused}):
        group = sorted((r for r in fused if r["threads"] == thr), key=lambda r: r["size"])
        if len(group) < 2:
            print(f"  threads {thr}: only one size, nothing to compare")
            continue
        inc = [max(r["peak_rss"] - r["before_rss"], 0.0) for r in group]
        spread = max(inc) - min(inc)
        flat = spread <= 16.0
        all_flat &= flat
        desc = ", ".join(f"{r['size']:.0e}: +{i:.0f} MiB (peak {r['peak_rss']:.0f})" for r, i in zip(group, inc))
        print(f"  threads {thr}: {desc} -> {'flat' if flat else 'NOT flat'} (spread {spread:.0f} MiB)")
    if not all(r["peak_reset"] for r in fused):
        print("  (peak could not be reset before the timed run: the check is weak)")
    sizes = sorted({r["size"] for r in fused})
    verdict = "n/a (one size)" if len(sizes) < 2 else ("yes" if all_flat else "NO")
    print(f"  fused memory flat from {sizes[0]:.0e} to {sizes[-1]:.0e}: {verdict}")
    return all_flat


args_global = None


def main(argv=None):
    global args_global
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1e6,1e7,1e8"),
                    help="comma-separated request counts (default 1e6,1e7,1e8)")
    ap.add_argument("--threads", type=parse_threads, default=parse_threads("1,2"),
                    help="comma-separated NUMBA_NUM_THREADS values for the fused runs (default 1,2)")
    ap.add_argument("--classes", type=int, choices=(1, 2), default=2, help="query classes (default 2)")
    ap.add_argument("--chunk", type=int, default=1 << 22,
                    help="NumPy: about this many requests per chunk of bins; 0 = unchunked (default 4194304)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="timed repetitions inside each worker; the fastest is reported (default 1)")
    ap.add_argument("--no-numpy", action="store_true", help="skip the NumPy runs (and the check)")
    ap.add_argument("--big", action="store_true",
                    help="instead: one fused run of 1e9 requests with 2 threads (takes a while)")
    ap.add_argument("--worker", choices=("fused", "numpy", "prime"), help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args_global = args
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.worker:
        return worker_main(args)

    import numba
    import numpy as np

    import costsim

    print(f"costsim {costsim.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    cls = classes(args.classes)
    print(f"scenario: {len(cls)} class(es) "
          + "; ".join(f"{n} {s:.0%} in~LN({a[0]},{a[1]}) out~LN({b[0]},{b[1]})" for n, s, a, b in cls)
          + f"; cached {CACHED_FRACTION:g}; {HORIZON} of {BIN} bins; long-context tier above "
          f"{TIER['threshold']:,} prompt tokens (~{tier_fraction(args.classes):.1%} of requests)")

    t0 = time.perf_counter()
    prime = spawn("prime", WARMUP_SIZE, 1, args)
    print(f"priming run (fresh process, import + first simulate, compiles if the numba cache is stale): "
          f"{prime['load_s']:.2f} s in simulate, {time.perf_counter() - t0:.2f} s process")

    if args.big:
        size = 10**9
        print(f"\n--big: fused, {size:.0e} requests, 2 threads (one run)...", flush=True)
        r = spawn("fused", size, 2, args)
        rate = r["requests"] / r["seconds"]
        print(f"  requests {r['requests']:,}; compile/load {r['load_s']:.2f} s (warm-up call); "
              f"simulate {r['seconds']:.2f} s (kernel {_fmt(r['kernel_s'], '.2f', 'n/a')} s); "
              f"{rate / 1e6:.1f} M req/s ({rate / 2e6:.1f} per thread); "
              f"peak RSS of the run {r['peak_rss']:.0f} MiB (+{max(r['peak_rss'] - r['before_rss'], 0.0):.0f} over the RSS "
              f"before it; after imports {r['base_rss']:.0f}, after warm-up {r['warm_rss']:.0f}); "
              f"process total {r['process_s']:.2f} s")
        print(f"  mean cost per request {r['cost'] / r['requests']:.6g} USD")
        return 0

    rows = []
    for size in args.sizes:
        if not args.no_numpy:
            print(f"running numpy  size={size:.0e} threads=1 ...", flush=True)
            rows.append(spawn("numpy", size, 1, args))
        for thr in args.threads:
            print(f"running fused  size={size:.0e} threads={thr} ...", flush=True)
            rows.append(spawn("fused", size, thr, args))
    chunk_note = (f"chunks of ~{args.chunk:,} requests" if args.chunk > 0 else "unchunked")
    per_size = ", ".join(f"{r['size']:.0e}: {r['bins_per_chunk']}" for r in rows if r["impl"] == "numpy")
    print(f"\nNumPy: single-threaded, {chunk_note} (bins per chunk of the 720: {per_size or '-'}).\n"
          f"Fused: costsim.simulate wall time after one warm-up call; 'kernel s' = the simulate_kernel call alone.\n")
    print_table(rows)
    for r in rows:
        if len(r["all_seconds"]) > 1:
            print(f"  {r['impl']} thr={r['threads']} size={r['size']:.0e}: all timings "
                  + ", ".join(f"{s:.3f}" for s in r["all_seconds"]))
    same = True
    if not args.no_numpy:
        same = check_same_model(rows)
    check_flat_memory(rows)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
