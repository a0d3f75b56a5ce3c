#!/usr/bin/env python
"""Realistic traffic: ``costsim.simulate`` against plain NumPy of the same model, same run.

The model, identical on both sides:

* one trial, 30 days of 1-hour bins (720 bins), a flat profile, ``--requests``
  expected requests in all; each (bin, class) count is Poisson;
* four single-call query classes whose prompts are two-component lognormal
  mixtures (a heavy upper component), lognormal outputs, a constant cached-input
  fraction per class (``cached = floor(frac * prompt + 0.5)``); tokens rounded
  half up;
* three ``TokenPricing`` options, each with cached-input rates and a long-context
  tier (the whole call at the tier's rates when ``prompt > threshold``);
* outputs: cost per (bin, option, class), token sums per (bin, class), and the
  per-request cost histogram (16 bins per octave over (1e-7, 1e3) USD, the edges of
  :class:`costsim.results.CostHistogram`) per (option, class).

The NumPy side draws the same distributions with ``np.random.default_rng`` in
chunks of bins (materialised arrays, ``np.bincount``), one thread; its stages
(arrivals, token draws, pricing per option, histogram) are timed one by one.  The
fused side's stages are fused into one pass, so they are measured by difference:
the same run with constant tokens (token draws), with lognormal prompts instead of
mixtures (the mixture's share of the draws), and with one option instead of three
(pricing and histogram per option).

``--agentic`` adds, on the fused side only, the demo's agent class (geometric
steps, tool tokens, a growing context) and cache writes on two classes.

Every (implementation, threads) runs in a fresh subprocess, so the peak RSS is that
run's alone.  Timings are the fastest of ``--repeat`` after a warm-up call, in wall
seconds and in CPU seconds (all threads of the process): on a machine shared with
other work the CPU seconds are the steadier measure of the work done; the stages
are measured in CPU seconds for that reason.

Usage::

    python benchmarks/bench_realistic.py                          # 1e8 requests, threads 1,2
    python benchmarks/bench_realistic.py --requests 1e7 --repeat 3
    python benchmarks/bench_realistic.py --requests 1e9 --threads 2 --no-numpy --no-stages
    python benchmarks/bench_realistic.py --agentic
    python benchmarks/bench_realistic.py --cold                   # first use with an empty numba cache
    python benchmarks/bench_realistic.py --cold --baseline-src /path/to/other/costsim/src

``--cold`` times, in fresh processes, the README's quick-start (``import costsim``
and its first ``simulate``: two classes, 14 days, 100 trials) with an empty numba
cache (compiling), then again with the cache it left (loading), and a small first
``simulate`` (4 trials, 2 days) with the cache: wall and CPU seconds.  With
``--baseline-src`` the same runs use that source tree too, for a same-run ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_kernel import (  # the shared measuring helpers, histogram and pass limits
    CHI2_P_LIMIT,
    HIST_PER_OCTAVE,
    HIST_RANGE,
    RESULT_TAG,
    WARMUP_SIZE,
    Z_LIMIT,
    _chi2_two_sample,
    _current_rss_mib,
    _digest,
    _maxrss_mib,
    _reset_peak,
    parse_threads,
)

DAYS = 30
HORIZON = f"{DAYS}D"
BIN = "1h"
# name, share, mixture components ((mu, sigma), (mu, sigma)), weights, output (mu, sigma), cached fraction
CLASSES = [
    ("chat", 0.45, ((6.2, 0.8), (8.3, 1.0)), (0.85, 0.15), (5.3, 0.7), 0.2),
    ("rag", 0.25, ((8.8, 0.5), (10.4, 0.6)), (0.7, 0.3), (5.8, 0.6), 0.5),
    ("summarize", 0.15, ((9.0, 0.7), (11.2, 0.8)), (0.75, 0.25), (6.0, 0.5), 0.1),
    ("code", 0.15, ((7.5, 0.9), (10.5, 0.9)), (0.6, 0.4), (6.2, 0.8), 0.4),
]
# name, (input, output, cached input) USD per 1M tokens, tier threshold, tier (input, output, cached input)
OPTIONS = [
    ("frontier", (3.0, 15.0, 0.3), 200_000, (6.0, 22.5, 0.6)),
    ("mid", (1.25, 10.0, 0.125), 128_000, (2.5, 15.0, 0.25)),
    ("small", (0.15, 0.6, 0.075), 32_000, (0.3, 1.2, 0.15)),
]
CACHE_WRITE = {"rag": 0.1, "code": 0.05}  # --agentic: cache-write fraction of these classes' prompts
FUSED_SEED = 20261202
NUMPY_SEED = 4242


def _lognormal(cs, mu_sigma, variant):
    return cs.Constant(float(math.exp(mu_sigma[0]))) if variant == "constant" else cs.LogNormal(*mu_sigma)


def costsim_objects(requests, variant="full", agentic=False):
    """The scenario as costsim objects.  ``variant``: "full"; "lognormal" (each prompt
    mixture replaced by its first component); "constant" (constant tokens);
    "one-option" (the first option only)."""
    import costsim as cs

    classes = []
    for name, share, comps, weights, out, frac in CLASSES:
        if variant == "constant":
            prompt = cs.Constant(float(math.exp(comps[0][0])))
        elif variant == "lognormal":
            prompt = cs.LogNormal(*comps[0])
        else:
            prompt = cs.Mixture(tuple(cs.LogNormal(*c) for c in comps), weights)
        write = CACHE_WRITE.get(name, 0.0) if agentic else 0.0
        classes.append(cs.QueryClass(name, share, prompt, _lognormal(cs, out, variant), cached_fraction=frac,
                                     cache_write_fraction=write))
    if agentic:
        from costsim.demo import demo_traffic

        classes.append(next(qc for qc in demo_traffic().classes if qc.name == "agent"))
    options = {}
    for name, (r_in, r_out, r_cached), threshold, (t_in, t_out, t_cached) in OPTIONS[:1 if variant == "one-option" else 3]:
        options[name] = cs.TokenPricing(
            input=r_in, output=r_out, cached_input=r_cached,
            long_context=[cs.LongContextTier(threshold, input=t_in, output=t_out, cached_input=t_cached)],
        )
    arrivals = cs.Arrivals(volume=requests / DAYS, horizon=HORIZON, bin=BIN)
    return cs.Traffic(classes, arrivals), options


def _shares():
    total = sum(c[1] for c in CLASSES)
    return [c[1] / total for c in CLASSES]


# ------------------------------------------------------------------------------------
# Workers (each in its own process)
# ------------------------------------------------------------------------------------
def _timed_simulate(cs, traffic, options, repeat):
    """The result, and the wall and CPU seconds (all threads) of each of ``repeat`` runs."""
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        ds = cs.simulate(traffic, options, trials=1, seed=FUSED_SEED, hist_range=HIST_RANGE,
                         hist_bins_per_octave=HIST_PER_OCTAVE, progress=False)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return ds, times, cpu


def run_fused(requests, repeat, stages, agentic):
    import numba

    import costsim as cs

    base_rss = _maxrss_mib()
    t0 = time.perf_counter()
    cs.simulate(*costsim_objects(WARMUP_SIZE, agentic=agentic), trials=1, seed=1, progress=False)
    load_s = time.perf_counter() - t0
    traffic, options = costsim_objects(requests, agentic=agentic)
    reset = _reset_peak()
    before_rss = _current_rss_mib()
    ds, times, cpu = _timed_simulate(cs, traffic, options, repeat)
    peak_rss = _maxrss_mib()
    res = {
        "threads": numba.get_num_threads(), "requests": int(ds["requests"].values.sum()),
        "calls": int(ds["calls"].values.sum()), "seconds": min(times), "all_seconds": times, "cpu_s": min(cpu), "load_s": load_s,
        "base_rss": base_rss, "before_rss": before_rss, "peak_rss": peak_rss, "peak_reset": reset,
        "cost": ds["cost"].values.sum(axis=(0, 1, 3)).tolist(),  # per option
        "tokens": {k: int(ds[f"{k}_tokens"].values.sum()) for k in ("input", "output", "cached")},
        "hist": ds["cost_hist"].values.sum(axis=(0, 2)).tolist(),  # [option, bin]
        "sha": _digest(ds["cost"].values) + _digest(ds["cost_hist"].values),
    }
    if stages:  # rounds of every variant in turn, so that a busy spell hits them alike
        variants = {v: costsim_objects(requests, v) for v in ("full", "constant", "lognormal", "one-option")}
        res["stages"] = {v: {"seconds": math.inf} for v in variants}
        for _ in range(repeat):
            for v, objects in variants.items():
                ds_v, _, cpu_v = _timed_simulate(cs, *objects, 1)  # CPU time: one thread, a busy machine
                stage = res["stages"][v]
                stage.update(seconds=min(stage["seconds"], cpu_v[0]), requests=int(ds_v["requests"].values.sum()))
    return res


def run_numpy(requests, repeat, chunk_requests):
    """The same model in plain NumPy: materialised per-request arrays, chunks of bins."""
    import numpy as np

    import costsim as cs
    from costsim.results import CostHistogram

    base_rss = _maxrss_mib()
    histogram = CostHistogram.from_range(HIST_RANGE, HIST_PER_OCTAVE)
    edges = histogram.upper[:-1]  # bin k holds edges[k-1] <= cost < edges[k]
    n_hist = histogram.n_bins
    expected = cs.Arrivals(volume=requests / DAYS, horizon=HORIZON, bin=BIN).expected_requests()
    n_bins, n_cls, n_opt = expected.shape[0], len(CLASSES), len(OPTIONS)
    shares = _shares()
    per_chunk = min(n_bins, max(1, int(chunk_requests // max(expected.mean(), 1.0))))

    def simulate_numpy(rng, clock):
        cost_tb = np.zeros((n_bins, n_opt, n_cls))
        tokens = {"input": 0, "output": 0, "cached": 0}
        sq = {"input": 0.0, "output": 0.0, "cached": 0.0, "cost": np.zeros(n_opt)}
        hist = np.zeros((n_opt, n_hist), dtype=np.int64)
        requests_total = 0
        for b0 in range(0, n_bins, per_chunk):
            b1 = min(n_bins, b0 + per_chunk)
            for c, (_, _, comps, weights, (mu_out, sd_out), frac) in enumerate(CLASSES):
                t = time.perf_counter()
                counts = rng.poisson(expected[b0:b1] * shares[c])
                n = int(counts.sum())
                t_idx = np.repeat(np.arange(b1 - b0), counts)
                t1 = time.perf_counter()
                clock["arrivals"] += t1 - t
                t = t1
                upper = rng.random(n) >= weights[0]
                mu = np.where(upper, comps[1][0], comps[0][0])
                sigma = np.where(upper, comps[1][1], comps[0][1])
                prompt = np.floor(np.exp(mu + sigma * rng.standard_normal(n)) + 0.5)
                output = np.floor(rng.lognormal(mu_out, sd_out, n) + 0.5)
                cached = np.floor(frac * prompt + 0.5)
                for key, arr in (("input", prompt), ("output", output), ("cached", cached)):
                    tokens[key] += int(arr.sum())
                    sq[key] += float(np.dot(arr, arr))
                requests_total += n
                t1 = time.perf_counter()
                clock["tokens"] += t1 - t
                for o, (_, (r_in, r_out, r_cached), threshold, (t_in, t_out, t_cached)) in enumerate(OPTIONS):
                    t = time.perf_counter()
                    long = prompt > threshold
                    cost = ((prompt - cached) * np.where(long, t_in, r_in) + cached * np.where(long, t_cached, r_cached)
                            + output * np.where(long, t_out, r_out)) * 1e-6
                    cost_tb[b0:b1, o, c] = np.bincount(t_idx, weights=cost, minlength=b1 - b0)
                    sq["cost"][o] += float(np.dot(cost, cost))
                    t1 = time.perf_counter()
                    hist[o] += np.bincount(np.searchsorted(edges, cost, side="right"), minlength=n_hist)
                    t2 = time.perf_counter()
                    clock["pricing"] += t1 - t
                    clock["histogram"] += t2 - t1
        return requests_total, cost_tb, tokens, sq, hist

    reset = _reset_peak()
    before_rss = _current_rss_mib()
    times, cpu, clocks = [], [], []
    for _ in range(repeat):
        clock = dict.fromkeys(("arrivals", "tokens", "pricing", "histogram"), 0.0)
        rng = np.random.default_rng(NUMPY_SEED)
        t0, c0 = time.perf_counter(), time.process_time()
        out = simulate_numpy(rng, clock)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        clocks.append(clock)
    n, cost_tb, tokens, sq, hist = out
    best = min(range(repeat), key=times.__getitem__)
    return {
        "threads": 1, "requests": n, "calls": n, "seconds": times[best], "all_seconds": times, "cpu_s": min(cpu),
        "load_s": None,
        "base_rss": base_rss, "before_rss": before_rss, "peak_rss": _maxrss_mib(), "peak_reset": reset,
        "cost": cost_tb.sum(axis=(0, 2)).tolist(), "cost_sq": sq["cost"].tolist(), "tokens": tokens,
        "tok_sq": {k: sq[k] for k in tokens}, "hist": hist.tolist(), "clock": clocks[best],
        "bins_per_chunk": per_chunk,
    }


COLD_SCRIPT = """
import sys, time
w0, c0 = time.perf_counter(), time.process_time()
import costsim as cs
imported = time.perf_counter() - w0
if sys.argv[1] == "quick-start":
    chat = cs.QueryClass("chat", share=0.8, input_tokens=cs.LogNormal.from_median_p90(800, 3_000),
                         output_tokens=cs.LogNormal.from_median_p90(250, 900), cached_fraction=0.3)
    agent = cs.QueryClass("agent", share=0.2, input_tokens=cs.LogNormal.from_median_p90(3_000, 10_000),
                          output_tokens=cs.LogNormal.from_median_p90(400, 1_500), steps=cs.Geometric(p=0.25),
                          tool_tokens=cs.LogNormal.from_median_p90(800, 4_000))
    traffic = cs.Traffic([chat, agent], cs.Arrivals(volume=20_000, horizon="14D", bin="1h",
                                                    growth=cs.Normal(0.10, 0.05), overdispersion=0.25))
    options = {"frontier": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30,
                                           long_context=[cs.LongContextTier(200_000, input=6.0, output=22.5)]),
               "small": cs.TokenPricing(input=0.40, output=1.60, cached_input=0.10)}
    trials = 100
else:
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))],
                         cs.Arrivals(volume=1_000, horizon="2D", bin="1h"))
    options, trials = {"api": cs.TokenPricing(input=3.0, output=15.0)}, 4
w1, c1 = time.perf_counter(), time.process_time()
cs.simulate(traffic, options, trials=trials, seed=1, progress=False)
print("@@COLD@@", imported, time.perf_counter() - w1, time.process_time() - c1, time.perf_counter() - w0)
"""


def cold_start(args):
    """First use in fresh processes: empty cache, then the cache it left."""
    import tempfile

    trees = [("this tree", None)] + ([("baseline", args.baseline_src)] if args.baseline_src else [])
    print("cold start: fresh processes (wall s / CPU s of the first simulate; import wall s)")
    for label, src in trees:
        env = dict(os.environ)
        if src:
            env["PYTHONPATH"] = src
        with tempfile.TemporaryDirectory() as cache:
            env["NUMBA_CACHE_DIR"] = cache
            for case, scenario in (("empty cache", "quick-start"), ("cached", "quick-start"), ("cached", "small")):
                proc = subprocess.run([sys.executable, "-c", COLD_SCRIPT, scenario], env=env, capture_output=True,
                                      text=True, check=False)
                line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("@@COLD@@")), None)
                if proc.returncode != 0 or line is None:
                    sys.stderr.write(proc.stdout + proc.stderr)
                    raise SystemExit(f"cold-start run failed ({label}, {case}, {scenario})")
                imported, wall, cpu, total = map(float, line.split()[1:])
                notice = "compile notice shown" if "compiling the simulation kernel" in proc.stderr else "no notice"
                print(f"  {label:9s} {case:11s} {scenario:11s}: first simulate {wall:6.2f} s wall, {cpu:6.2f} s CPU; "
                      f"import {imported:.2f} s; process {total:.2f} s; {notice}")


def worker_main(args):
    if args.worker == "fused":
        res = run_fused(args.requests, args.repeat, args.stages, args.agentic)
    else:
        res = run_numpy(args.requests, args.repeat, args.chunk)
    print(RESULT_TAG + json.dumps(res), flush=True)


# ------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------
def spawn(kind, requests, threads, args, stages=False):
    env = dict(os.environ)
    env["NUMBA_NUM_THREADS"] = str(threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--requests", str(requests),
           "--repeat", str(args.repeat), "--chunk", str(args.chunk)]
    cmd += ["--agentic"] if args.agentic else []
    cmd += [] if stages else ["--no-stages"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {kind} requests={requests} threads={threads} failed (exit {proc.returncode})")
    res = json.loads(lines[-1][len(RESULT_TAG):])
    res.update(impl=kind, size=requests)
    return res


def print_table(rows):
    numpy = next((r for r in rows if r["impl"] == "numpy"), None)
    header = ("impl", "thr", "requests", "load s", "seconds", "M req/s", "M/s/thr", "vs NumPy", "CPU s",
              "M/CPU s", "vs NumPy", "peak MiB", "+MiB")
    widths = (5, 3, 13, 6, 8, 8, 7, 8, 7, 7, 8, 8, 6)
    line = "  ".join(h.rjust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        rate, cpu_rate = r["requests"] / r["seconds"], r["requests"] / r["cpu_s"]
        cells = (r["impl"], str(r["threads"]), f"{r['requests']:,}",
                 "-" if r["load_s"] is None else f"{r['load_s']:.2f}", f"{r['seconds']:.3f}", f"{rate / 1e6:.2f}",
                 f"{rate / 1e6 / r['threads']:.2f}",
                 "-" if numpy is None else f"{rate / (numpy['requests'] / numpy['seconds']):.2f}x",
                 f"{r['cpu_s']:.2f}", f"{cpu_rate / 1e6:.2f}",
                 "-" if numpy is None else f"{cpu_rate / (numpy['requests'] / numpy['cpu_s']):.2f}x",
                 f"{r['peak_rss']:.0f}", f"{max(r['peak_rss'] - r['before_rss'], 0.0):.0f}")
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths)))
        if len(r["all_seconds"]) > 1:
            print(" " * 8 + "timings " + ", ".join(f"{s:.3f}" for s in r["all_seconds"]))


def print_stages(rows):
    ref = next((r for r in rows if r["impl"] == "numpy"), None)
    fused = next((r for r in rows if r["impl"] == "fused" and "stages" in r), None)
    print("\nns per request by stage")
    if ref is not None:
        c, n = ref["clock"], ref["requests"]
        print("  NumPy (timed stage by stage): "
              f"arrivals {1e9 * c['arrivals'] / n:.1f}, token draws {1e9 * c['tokens'] / n:.1f}, "
              f"pricing {1e9 * c['pricing'] / n / len(OPTIONS):.1f} per option, "
              f"histogram {1e9 * c['histogram'] / n / len(OPTIONS):.1f} per option; "
              f"total {1e9 * ref['seconds'] / n:.1f}")
    if fused is not None:
        def ns(r):
            return 1e9 * r["seconds"] / r["requests"]
        s = fused["stages"]
        full = ns(s["full"])
        const, logn, one = ns(s["constant"]), ns(s["lognormal"]), ns(s["one-option"])
        print(f"  fused, 1 thread (by difference of whole runs, interleaved, CPU time): total {full:.1f}; token draws {full - const:.1f} "
              f"(of which the mixture over a lognormal {full - logn:.1f}); pricing + histogram "
              f"{(full - one) / (len(OPTIONS) - 1):.1f} per option; the rest (arrivals, one option, sums) "
              f"{one - (full - const):.1f}")


def check_same_model(rows):
    """Fused and NumPy agree on mean cost per option, mean tokens and the histograms."""
    ref = next((r for r in rows if r["impl"] == "numpy"), None)
    if ref is None:
        return True
    n_ref = ref["requests"]
    print(f"\nSame-model check (different random numbers; PASS if |diff| < {Z_LIMIT:g} standard errors, "
          f"histogram chi-square p > {CHI2_P_LIMIT:g})")
    ok = True
    fused_rows = [r for r in rows if r["impl"] == "fused" and r["size"] == ref["size"]]
    for r in fused_rows:
        n = r["requests"]
        checks = [(f"cost {name}", r["cost"][o], ref["cost"][o], ref["cost_sq"][o])
                  for o, (name, *_) in enumerate(OPTIONS)]
        checks += [(f"{k} tokens", r["tokens"][k], ref["tokens"][k], ref["tok_sq"][k]) for k in ref["tokens"]]
        parts = []
        for label, total, total_ref, sq in checks:
            m, m_ref = total / n, total_ref / n_ref
            se = math.sqrt(max(sq / n_ref - m_ref * m_ref, 0.0)) * math.sqrt(1.0 / n + 1.0 / n_ref)
            z = abs(m - m_ref) / se if se > 0 else float("inf")
            ok &= z < Z_LIMIT
            parts.append(f"{label} {m:.6g} vs {m_ref:.6g} (z={z:.2f}{'' if z < Z_LIMIT else ' FAIL'})")
        for o, (name, *_) in enumerate(OPTIONS):
            p, k = _chi2_two_sample(r["hist"][o], ref["hist"][o])
            ok &= p > CHI2_P_LIMIT
            parts.append(f"histogram {name} p={p:.3g} over {k} bins{'' if p > CHI2_P_LIMIT else ' FAIL'}")
        print(f"  fused thr={r['threads']}: " + ";\n    ".join(parts))
    if len(fused_rows) > 1:
        same = len({r["sha"] for r in fused_rows}) == 1
        print(f"  fused results bit-identical across threads: {'yes' if same else 'NO'}")
        ok &= same
    print(f"  overall: {'PASS' if ok else 'FAIL'}")
    return ok


def check_flat_memory(rows):
    fused = sorted((r for r in rows if r["impl"] == "fused" and r["threads"] == rows[-1]["threads"]),
                   key=lambda r: r["size"])
    if len(fused) < 2:
        return
    inc = [max(r["peak_rss"] - r["before_rss"], 0.0) for r in fused]
    print(f"\nfused memory of the timed run, {fused[0]['threads']} thread(s): "
          + ", ".join(f"{r['size']:.0e} requests +{i:.0f} MiB" for r, i in zip(fused, inc))
          + f" -> {'flat' if max(inc) - min(inc) <= 16 else 'NOT flat'} (spread {max(inc) - min(inc):.0f} MiB)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=lambda s: int(float(s)), default=10**8,
                    help="expected requests (default 1e8)")
    ap.add_argument("--threads", type=parse_threads, default=parse_threads("1,2"),
                    help="NUMBA_NUM_THREADS of the fused runs, comma-separated (default 1,2)")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs per worker, the fastest counts (default 2)")
    ap.add_argument("--chunk", type=int, default=1 << 22, help="NumPy: about this many requests per chunk")
    ap.add_argument("--no-numpy", action="store_true", help="fused runs only (no ratio, no check)")
    ap.add_argument("--no-stages", dest="stages", action="store_false",
                    help="skip the fused runs that measure stages by difference")
    ap.add_argument("--no-memory", dest="memory", action="store_false",
                    help="skip the fused run at a tenth of the requests that checks memory is flat")
    ap.add_argument("--agentic", action="store_true",
                    help="add the demo's agent class and cache writes (fused only)")
    ap.add_argument("--cold", action="store_true",
                    help="instead: time the first simulate in fresh processes, empty cache and cached")
    ap.add_argument("--baseline-src", help="--cold: also time this costsim source tree (its src folder)")
    ap.add_argument("--worker", choices=("fused", "numpy"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.requests < 1 or args.repeat < 1:
        ap.error("--requests and --repeat must be >= 1")
    if args.worker:
        return worker_main(args)
    if args.cold:
        return cold_start(args)

    import numba
    import numpy as np

    import costsim

    print(f"costsim {costsim.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print("classes: " + "; ".join(f"{n} {s:.0%} prompt~{w[0]:g}*LN{a}+{w[1]:g}*LN{b} out~LN{o} cached {f:g}"
                                  for n, s, (a, b), w, o, f in CLASSES))
    print("options: " + "; ".join(f"{n} {r} per 1M, tier above {t:,}: {tr}" for n, r, t, tr in OPTIONS))
    if args.agentic:
        print("--agentic: + the demo's agent class; cache writes " + ", ".join(f"{k} {v:g}" for k, v in
                                                                             CACHE_WRITE.items()) + " (fused only)")
    rows = []
    if not (args.no_numpy or args.agentic):
        print("running numpy ...", flush=True)
        rows.append(spawn("numpy", args.requests, 1, args))
    if args.memory:
        print(f"running fused {args.requests // 10:.0e} requests, {args.threads[0]} thread(s) ...", flush=True)
        rows.append(spawn("fused", args.requests // 10, args.threads[0], args))
    for i, thr in enumerate(args.threads):
        print(f"running fused {thr} thread(s) ...", flush=True)
        rows.append(spawn("fused", args.requests, thr, args, stages=args.stages and i == 0 and thr == 1
                          and not args.agentic))
    main_rows = [r for r in rows if r["size"] == args.requests]
    print()
    print_table(rows)
    if any(r["impl"] == "fused" and "calls" in r and r["calls"] != r["requests"] for r in main_rows):
        for r in main_rows:
            print(f"  fused thr={r['threads']}: {r['calls']:,} model calls, {r['calls'] / r['seconds'] / 1e6:.2f} M calls/s")
    print_stages(main_rows)
    same = check_same_model(main_rows)
    if args.memory:
        check_flat_memory([r for r in rows if r["impl"] == "fused" and r["threads"] == args.threads[0]])
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
