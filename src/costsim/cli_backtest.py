"""``costsim backtest LOG``: backtest the forecast on a request log (see :func:`costsim.backtest`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .cli_log import add_log_arguments, log_options

__all__ = ["add_backtest"]


def _run(args: argparse.Namespace, input_file: Callable[[str, str], Any], columns: dict[str, str]) -> int:
    import pandas as pd

    from .calibrate import backtest
    from .pricing.litellm import from_litellm
    from .pricing.token import TokenPricing

    source = input_file(args.log, "log")
    if args.model is not None:
        if args.input_price is not None or args.output_price is not None or args.cached_input_price is not None:
            raise ValueError("give --model or --input-price/--output-price, not both")
        pricing = from_litellm(args.model)
    else:
        if args.input_price is None or args.output_price is None:
            raise ValueError("give --model NAME, or both --input-price and --output-price (USD per million tokens)")
        pricing = TokenPricing(input=args.input_price, output=args.output_price,
                               cached_input=args.cached_input_price)
    pilot: Any = args.pilot
    try:
        pilot = float(pilot)
    except ValueError:
        pass  # a duration such as 30min
    read, limits = log_options(args, columns)
    bt = backtest(source, pricing, pilot=pilot, origins=args.origins, horizon=args.horizon, trials=args.trials,
                  seed=args.seed, **read, fit_options=limits or None,
                  project_options=None if args.drift is None else {"drift": _drift(args.drift)})
    ds = bt.dataset
    table = pd.DataFrame({
        "pilot_start": ds["pilot_start"].to_numpy(),
        "realised": ds["realised"].to_numpy(),
        **{f"p{50 - 50 * lv:g}": ds["lower"].sel(level=lv).to_numpy() for lv in ds["level"].to_numpy()[::-1]},
        "median": ds["median"].to_numpy(),
        **{f"p{50 + 50 * lv:g}": ds["upper"].sel(level=lv).to_numpy() for lv in ds["level"].to_numpy()},
        "naive_per_request": ds["naive_per_request"].to_numpy(),
        "naive_per_hour": ds["naive_per_hour"].to_numpy(),
        "status": ds["status"].to_numpy(),
    })
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 4,
                           "display.max_colwidth", 60):
        print(f"costsim backtest {source}: costs in USD")
        print(table)
        print()
        print(bt)
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .plot import plot_backtest

        ax = plot_backtest(bt)
        ax.figure.savefig(args.plot, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        print(f"wrote {args.plot}")
    if args.out is not None:
        ds.to_netcdf(args.out)
        print(f"wrote {args.out}")
    return 0


def _drift(text: str) -> str | float:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--drift must be 'auto' or a number >= 0; got {text!r}") from None


def add_backtest(sub: Any, *, input_file: Callable[[str, str], Any], parse_columns: Callable[[list[str]], dict],
                 positive: Callable[[str], float], int_at_least: Callable[[int], Callable[[str], int]]) -> None:
    """Register ``costsim backtest`` on the subparsers ``sub`` (the helpers are the CLI's own checkers)."""
    p = sub.add_parser(
        "backtest",
        help="backtest the forecast on a request log (CSV or JSON lines)",
        description="Fit pilot windows of a request log, forecast the rest of the log, and compare the bands "
        "with the cost the log really had (every logged request priced); prints per-origin bands, coverage, "
        "band widths and interval scores against the naive extrapolations.",
        epilog="Example: costsim backtest logs.csv --input-price 3 --output-price 15 --pilot 0.1 --origins 10 "
        "--plot backtest.png",
    )
    p.add_argument("log", metavar="LOG", help="request log: CSV, or JSON lines (.jsonl, .ndjson)")
    p.add_argument("--model", default=None, metavar="NAME", help="price with this model of the bundled catalog")
    p.add_argument("--input-price", type=positive, default=None, metavar="USD",
                   help="USD per million input tokens (with --output-price, instead of --model)")
    p.add_argument("--output-price", type=positive, default=None, metavar="USD",
                   help="USD per million output tokens")
    p.add_argument("--cached-input-price", type=positive, default=None, metavar="USD",
                   help="USD per million input tokens read from the prompt cache (default: the input price)")
    p.add_argument("--pilot", default="0.1", help="pilot window: a fraction of the log's span, or a duration "
                   "such as 30min (default 0.1)")
    p.add_argument("--origins", type=int_at_least(1), default=10, help="pilot windows, evenly spread (default 10)")
    p.add_argument("--horizon", default="rest", help="'rest' (the log outside the pilot, default) or the "
                   "duration of the window after the pilot, e.g. 1h")
    p.add_argument("--trials", type=int_at_least(2), default=200, help="trials per origin (default 200)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed (default 0)")
    p.add_argument("--drift", default=None, help="'auto' (default) or an assumed sd of the log level")
    add_log_arguments(p, int_at_least=int_at_least)
    p.add_argument("--plot", default=None, metavar="PNG", help="draw the backtest to this image file")
    p.add_argument("--out", default=None, metavar="NC", help="write the per-origin dataset to this netCDF file")
    p.set_defaults(func=lambda args: _run(args, input_file, parse_columns(args.column)))
