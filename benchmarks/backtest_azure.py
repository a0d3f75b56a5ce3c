"""Backtest the default forecast on the Azure 2023 LLM inference traces (acceptance figures of issue 13).

Each tenth of a trace is the pilot and the other 90% is "production": ten rolling
origins at the DEFAULT settings of fit_traffic and project, 400 trials each, priced at
$3 per million input tokens and $15 per million output tokens.  Prints, per trace, the
per-origin bands beside the realised cost and the summary (coverage of the 50% and 90%
bands, median width over realised, mean interval score over realised against the naive
extrapolations'), and the drift the origins show (Backtest.drift).

Run: python benchmarks/backtest_azure.py [DATA_DIR] [--trials N] [--plot DIR]
(DATA_DIR: the folder of AzureLLMInferenceTrace_conv.csv and _code.csv, default
/work/shared/data/azure_llm_2023).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import costsim as cs

PRICING = cs.TokenPricing(input=3.0, output=15.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="/work/shared/data/azure_llm_2023")
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--plot", default=None, help="folder for backtest_<trace>.png")
    parser.add_argument("--in-sample-drift", action="store_true",
                        help="rerun each trace with drift=Backtest.drift() (in sample: the drift is read from "
                        "the same origins)")
    args = parser.parse_args()
    for trace in ("conv", "code"):
        path = Path(args.data) / f"AzureLLMInferenceTrace_{trace}.csv"
        t0 = time.perf_counter()
        bt = cs.backtest(path, PRICING, pilot=0.1, origins=10, trials=args.trials, seed=0)
        ds = bt.dataset
        table = pd.DataFrame({
            "pilot_requests": ds["pilot_requests"].to_numpy(),
            "realised": ds["realised"].to_numpy(),
            "p5/realised": (ds["lower"].sel(level=0.9) / ds["realised"]).to_numpy(),
            "median/realised": (ds["median"] / ds["realised"]).to_numpy(),
            "p95/realised": (ds["upper"].sel(level=0.9) / ds["realised"]).to_numpy(),
            "naive_req/realised": (ds["naive_per_request"] / ds["realised"]).to_numpy(),
            "naive_hour/realised": (ds["naive_per_hour"] / ds["realised"]).to_numpy(),
            "status": ds["status"].to_numpy(),
        })
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3,
                               "display.max_colwidth", 40):
            print(f"== {trace}: {time.perf_counter() - t0:.0f} s")
            print(table)
            print(bt)
            print(f"drift the origins show (Backtest.drift): {bt.drift():.3f}")
        if args.in_sample_drift:
            again = cs.backtest(path, PRICING, pilot=0.1, origins=10, trials=args.trials, seed=0,
                                project_options={"drift": bt.drift()})
            with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
                print(f"-- {trace} with drift={bt.drift():.3f} (IN SAMPLE)")
                print(again)
        if args.plot:
            from costsim.plot import plot_backtest

            ax = plot_backtest(bt)
            ax.set_title(f"Azure {trace} trace, each tenth as the pilot: {ax.get_title().removeprefix('Backtest: ')}")
            ax.figure.savefig(Path(args.plot) / f"backtest_{trace}.png", dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
