#!/usr/bin/env python
"""Whole-trace fits of the Azure 2023 LLM traces: per-request cost quantiles and limits.

For each trace (``AzureLLMInferenceTrace_conv.csv`` and ``_code.csv``, read from
``--data``), ``costsim.fit_traffic`` fits the whole trace at its defaults plus
declared limits (``--max-input``, ``--max-output``: a context window and an
output limit; by default 32,768 and 4,096, a generic deployment of the time, not
taken from the traces; 0: none), then:

* per-request cost at $3/M input and $15/M output: p50, p90, p99 and p99.9 of
  the trace and of ``--draws`` requests drawn from the fit (``TrafficFit.sample``,
  rounded as the simulation rounds them), and their ratio minus 1;
* the largest prompt and output drawn, beside the limits and the trace's largest;
* per class and column: the generalized Pareto tail fitted (threshold, share of
  rows, shape, KS distance on the tail's rows against its 5 % critical value);
* kernel speed: ``costsim.simulate`` of ``--requests`` requests of the fitted
  traffic (point estimates, one trial) against the same traffic with each
  column's family alone (its own tail, capped at the pile and the limit as
  before), measured in the same run (the best of ``--repeats`` runs of each, the
  two interleaved): the cost of sampling the spliced tails.

Usage::

    python benchmarks/fit_tails_azure.py
    python benchmarks/fit_tails_azure.py --draws 4000000 --max-input 16384 --max-output 2048
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
import warnings
from pathlib import Path

import numpy as np

import costsim as cs
from costsim.calibrate import read_log

API = cs.TokenPricing(input=3.0, output=15.0)
QUANTILES = (0.5, 0.9, 0.99, 0.999)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data/azure_llm_2023")
    parser.add_argument("--draws", type=float, default=2e6)
    parser.add_argument("--max-input", type=int, default=32_768)
    parser.add_argument("--max-output", type=int, default=4_096)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=float, default=2e7)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each traffic, interleaved")
    args = parser.parse_args()
    for name in ("conv", "code"):
        path = Path(args.data) / f"AzureLLMInferenceTrace_{name}.csv"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # repeated timestamps: kept as separate requests
            log = read_log(path)
            started = time.perf_counter()
            fit = cs.fit_traffic(log, max_input=args.max_input or None, max_output=args.max_output or None)
            seconds = time.perf_counter() - started
        drawn = fit.sample(int(args.draws), rng=args.seed)
        real = np.asarray(cs.price(API, log.input_tokens, log.output_tokens))
        sim = np.asarray(cs.price(API, drawn["input_tokens"].to_numpy(), drawn["output_tokens"].to_numpy()))
        q_real, q_sim = np.quantile(real, QUANTILES), np.quantile(sim, QUANTILES)
        print(f"\n{name}: {len(log):,} rows, fitted in {seconds:.1f} s; {int(args.draws):,} requests drawn")
        print("  per-request cost (USD)  " + "  ".join(f"{'p' + format(100 * q, 'g'):>9}" for q in QUANTILES))
        print("  trace                   " + "  ".join(f"{v:9.5f}" for v in q_real))
        print("  fit                     " + "  ".join(f"{v:9.5f}" for v in q_sim))
        print("  fit / trace - 1         " + "  ".join(f"{v:+9.1%}" for v in q_sim / q_real - 1))
        for column, limit in (("input_tokens", args.max_input), ("output_tokens", args.max_output)):
            beyond = f"limit {limit:,}, beyond it: {int(np.count_nonzero(drawn[column] > limit))}" if limit else \
                "no limit"
            print(f"  {column}: trace max {int(getattr(log, column).max()):,}, drawn max "
                  f"{int(drawn[column].max()):,}, {beyond}")
        tokens = fit.report.tokens
        shown = tokens[["family", "cap", "limit", "tail_from", "tail_share", "tail_shape", "tail_ks"]]
        print("  " + shown.to_string().replace("\n", "\n  "))
        spliced, families = _speeds(fit, args.requests, args.repeats)
        print(f"  kernel: {spliced / 1e6:.1f} M requests/s with the tails, {families / 1e6:.1f} M with the families "
              f"alone: ratio {spliced / families:.2f}")


def _speeds(fit: cs.calibrate.TrafficFit, requests: float, repeats: int) -> tuple[float, float]:
    """Requests per second of ``simulate`` on the fitted traffic, and on it with the families' own tails
    (the best of ``repeats`` runs of each, the two interleaved)."""
    traffic = cs.project(fit, volume=requests, horizon="1D", bin="1h", uncertainty=False)
    plain = [dataclasses.replace(q, input_tokens=_family(c.input_tokens), output_tokens=_family(c.output_tokens))
             for q, c in zip(traffic.classes, fit.classes.values())]
    pair = (traffic, dataclasses.replace(traffic, classes=plain))
    requests = [float(cs.simulate(t, {"api": API}, trials=1, seed=0)["requests"].sum()) for t in pair]  # compile
    best = [math.inf, math.inf]
    for _ in range(repeats):  # interleaved, so both see the same load on a shared machine
        for k, t in enumerate(pair):
            started = time.perf_counter()
            cs.simulate(t, {"api": API}, trials=1, seed=0)
            best[k] = min(best[k], time.perf_counter() - started)
    return requests[0] / best[0], requests[1] / best[1]


def _family(column: cs.calibrate.TokenFit) -> cs.Distribution:
    """The column's family with its pile's cap and limit, without the spliced tail."""
    return dataclasses.replace(column, tail=None).complete(column.body)


if __name__ == "__main__":
    main()
