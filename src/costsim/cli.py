"""The ``costsim`` command line.

Every command ends in one of three ways: it prints its result and exits 0; a
mistake in the input (an argument, a file, a parameter) is one line on stderr and
exit status 2; Ctrl-C (SIGINT) or SIGTERM is one line and exit status 130 or 143.
Output files are checked before any work starts and written atomically (see
:func:`costsim.files.write_atomic`): an interrupted write leaves no partial
file behind.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from . import cli_catalog
from ._format import usd
from .cli_backtest import add_backtest
from .cli_log import add_log_arguments, log_options
from .files import check_folder, check_writable, write_atomic

__all__ = ["main", "summary_table"]


def summary_table(ds: xr.Dataset) -> str:
    """Plain-text summary: total cost bands per option and unit cost per class
    (of a volume sweep, such as ``costsim demo`` writes: one summary per volume).

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=4, seed=1)
    >>> for line in summary_table(ds).splitlines()[:3]:
    ...     print(line)
    Total cost over the horizon, across 4 trials
      option            p50 (median)            p5           p95
      frontier                $2,...
    """
    if "volume" in ds.dims:
        return "\n\n".join(f"At {float(v):,.0f} queries/day\n{summary_table(ds.sel(volume=v))}"
                           for v in ds["volume"].values)
    total = ds.costsim.total().quantile([0.05, 0.5, 0.95], dim="trial")
    lines = [f"Total cost over the horizon, across {ds.sizes['trial']} trials"]
    lines.append(f"  {'option':<16}{'p50 (median)':>14}{'p5':>14}{'p95':>14}")
    for opt in ds["option"].values:
        t = total.sel(option=opt).values
        lines.append(f"  {opt:<16}{usd(t[1]):>14}{usd(t[0]):>14}{usd(t[2]):>14}")
    unit = ds.costsim.unit_cost(by="qclass").median("trial")
    requests = ds["requests"].sum(("time", "qclass")).median("trial")
    lines.append("")
    lines.append(f"Median cost per query by query class; median {float(requests):,.0f} queries per trial")
    header = "".join(f"{str(o):>14}" for o in ds["option"].values)
    lines.append(f"  {'class':<16}{header}")
    for qc in ds["qclass"].values:
        row = "".join(f"{usd(unit.sel(option=o, qclass=qc)):>14}" for o in ds["option"].values)
        lines.append(f"  {qc:<16}{row}")
    return "\n".join(lines)


def _write_result(ds: xr.Dataset, path: Path) -> None:
    """The result as a compressed netCDF file, written atomically."""
    compressed = {name: {"zlib": True, "complevel": 4} for name in ds.data_vars}
    write_atomic(path, lambda p: ds.to_netcdf(p, encoding=compressed))


def _write_band_plots(ds: xr.Dataset, path: Path) -> None:
    """A PNG of the cost bands per bin and cumulative, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import plot_cost_bands

    fig, axes = plt.subplots(2, 1, figsize=(10, 8), layout="constrained")
    try:
        plot_cost_bands(ds, ax=axes[0])
        plot_cost_bands(ds, ax=axes[1], cumulative=True)
        write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    finally:
        plt.close(fig)


def _input_file(name: str, what: str) -> Path:
    """The path of an existing file, or a ValueError saying there is none."""
    path = Path(name)
    if not path.is_file():
        raise ValueError(f"{path}: no such {what} file")
    return path


def _output_file(name: str, suffixes: tuple[str, ...], what: str) -> Path:
    """``--out``: a file name with one of ``suffixes`` that can be written (see ``check_writable``)."""
    out = Path(name)
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"--out must be {what} ending in {' or '.join(suffixes)}; got {str(out)!r}")
    check_writable(out)
    return out


def _output_folder(name: str, files: Sequence[str]) -> Path:
    """An output folder and the ``files`` to be written in it, checked before the run (not created yet)."""
    folder = check_folder(name)
    if folder.is_dir():
        for file in files:
            check_writable(folder / file)
    return folder


def _time_limit(args: argparse.Namespace) -> dict[str, float]:
    """``--max-hours`` as simulate's ``max_seconds`` (absent: simulate's default limit)."""
    return {} if args.max_hours is None else {"max_seconds": args.max_hours * 3600.0}


def _demo(args: argparse.Namespace) -> int:
    from . import demo
    from .run import sweep
    from .run.progress import interactive

    nc = "costsim-demo.nc"
    out = _output_folder(args.out, (nc, *(f"costsim-demo-{k}.png" for k in ("crossover", "classes", "tail"))))
    traffic = demo.demo_traffic(days=args.days, volume=demo.PILOT_VOLUME)  # the sweep sets each volume
    options = demo.demo_deployments()
    volumes = demo.DEMO_VOLUMES
    print(f"costsim demo: an AI assistant ({len(traffic.classes)} query classes) deployed {len(options)} ways, "
          f"{args.days} days of hourly traffic at {len(volumes)} volumes from {volumes[0]:,.0f} (pilot) to "
          f"{volumes[-1]:,.0f} (production) queries a day, {args.trials} trials", flush=True)
    for name, option in options.items():
        print(f"  {name:<12} {demo.describe_option(option)}", flush=True)
    compiled = _compilations()
    started = time.perf_counter()
    progress = interactive() if args.progress is None else args.progress
    sw = sweep(traffic, options, volumes, trials=args.trials, seed=args.seed, progress=progress, **_time_limit(args))
    elapsed = time.perf_counter() - started
    note = " (including compilation on first use)" if _compilations() > compiled else ""
    print(f"\nsimulated {int(sw['requests'].sum()):,} queries in {elapsed:.1f} s{note}\n")
    print(demo.demo_report(sw))

    out.mkdir(parents=True, exist_ok=True)
    _write_result(sw, out / nc)
    written = [*demo.write_demo_figures(sw, out), out / nc]
    print(f"\nwrote {', '.join(map(str, written))}")
    return 0


def _compilations() -> int:
    """How many times this process compiled a kernel: numba's cache misses (a kernel
    loaded from the on-disk cache is a hit, not a compilation)."""
    from . import kernels

    return sum(sum(f.stats.cache_misses.values()) for f in vars(kernels).values()
               if hasattr(getattr(f, "stats", None), "cache_misses"))


def _scenario(args: argparse.Namespace) -> tuple[Path, Any]:
    """The scenario file of ``args.scenario``, and the scenario loaded from it (trusting the packages of
    ``--allow-import``); an error names the file."""
    from .scenario import load_scenario

    source = _input_file(args.scenario, "scenario")
    try:
        return source, load_scenario(source, allow_imports=args.allow_import)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def _run(args: argparse.Namespace) -> int:
    from .run.dask import connect
    from .run.sizing import check_result_fits, estimate

    source, scenario = _scenario(args)
    out = _output_file(args.out, (".nc",), "a netCDF file name")
    plots = _output_folder(args.plots, (f"{source.stem}.png",)) if args.plots is not None else None
    overrides = {k: v for k, v in (("trials", args.trials), ("seed", args.seed)) if v is not None}
    if args.scheduler is not None and importlib.util.find_spec("distributed") is None:
        raise ValueError("--scheduler needs Dask: pip install 'costsim[dask]'")
    settings = {"trials": scenario.trials, "seed": scenario.seed, **overrides}
    size = estimate(scenario.traffic, scenario.options, **settings)
    check_result_fits(size.result_bytes, None)
    cluster = contextlib.nullcontext() if args.scheduler is None else connect(args.scheduler, args.connect_timeout)
    with cluster as client:
        print(f"costsim run: {size}", file=sys.stderr)
        started = time.perf_counter()
        ds = scenario.run(**overrides, **_time_limit(args), progress=args.progress, client=client)
        elapsed = time.perf_counter() - started
    print(f"costsim run {source}: {len(scenario.traffic.classes)} query classes, {ds.sizes['option']} options, "
          f"{ds.sizes['time']} time bins, {ds.sizes['trial']} trials, seed {ds.attrs['seed']}")
    print(f"simulated {int(ds['requests'].sum()):,} queries in {elapsed:.1f} s\n")
    print(summary_table(ds))
    _write_result(ds, out)
    written = [str(out)]
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        png = plots / f"{source.stem}.png"
        _write_band_plots(ds, png)
        written.append(str(png))
    print(f"\nwrote {' and '.join(written)}")
    return 0


def _optimize(args: argparse.Namespace) -> int:
    import pandas as pd

    from .decide import optimize

    source, scenario = _scenario(args)
    if scenario.optimize is None:
        raise ValueError(f"{source}: declares no search: add an [optimize] table with a search, e.g. "
                         "[optimize.search] \"ptu.units\" = [1, 2, 4, 8] (see the example right_size.toml)")
    out = _output_file(args.out, (".nc",), "a netCDF file name") if args.out is not None else None
    settings = {"trials": scenario.trials if args.trials is None else args.trials,
                "seed": scenario.seed if args.seed is None else args.seed}
    started = time.perf_counter()
    try:
        result = optimize(scenario.traffic, scenario.options, **scenario.optimize.keywords(), **settings,
                          progress=args.progress, **_time_limit(args))
    except ValueError as err:  # ParameterError included: it names the search key, the objective, ...
        raise ValueError(f"{source}: optimize: {err}") from None
    elapsed = time.perf_counter() - started
    ds = result.dataset
    print(f"costsim optimize {source}: {ds.sizes['candidate']} candidates over {ds.sizes['trial']} trials, "
          f"seed {ds.attrs['seed']}, in {elapsed:.1f} s\n")
    print(result.summary())
    frontier = result.frontier()
    print(f"\nEfficient frontier (mean vs {ds.attrs['tail']}, USD): {len(frontier)} of {ds.sizes['candidate']} "
          "candidates")
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", 200,
                           "display.float_format", _number):
        print(frontier.to_string())
    if out is not None:
        _write_result(ds, out)
        print(f"\nwrote {out}")
    return 0


def _number(value: float) -> str:
    """A number in a printed table: USD amounts to the dollar, shares to 4 significant digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def _report(args: argparse.Namespace) -> int:
    path = _input_file(args.result, "result")
    try:
        with xr.open_dataset(path) as ds:
            table = summary_table(ds.load())
    except Exception as err:  # a file that is not a costsim result: say so in one line
        detail = (str(err).splitlines() or [""])[0]
        raise ValueError(f"{path}: not a costsim result file ({type(err).__name__}: {detail})") from None
    print(table)
    return 0


def _price(args: argparse.Namespace) -> int:
    from .pricing.base import utc_times
    from .pricing.litellm import call_rates, catalog, from_litellm, price
    from .pricing.rates import STANDARD

    pricing = from_litellm(args.model, args.price_map, uplift=args.uplift, ignore=args.ignore)
    tier = STANDARD if args.tier is None else args.tier
    if tier not in pricing.tiers:
        raise ValueError(f"{args.model!r} does not offer service tier {tier!r}; it offers {list(pricing.tiers)}")
    total = float(price(pricing, args.input, args.output, cache_read_tokens=args.cached,
                        cache_write_tokens=args.cache_write, cache_write_ttl=args.cache_ttl,
                        reasoning_tokens=args.reasoning, service_tier=tier, when=args.when))
    off_peak = (args.when is not None and pricing.off_peak is not None and tier == "standard"
                and bool(pricing.off_peak.contains(utc_times(args.when))))
    rates = call_rates(pricing, args.input, service_tier=tier, cache_write_ttl=args.cache_ttl, off_peak=off_peak)
    source = (f"price map {args.price_map}" if args.price_map is not None
              else f"costsim price catalog of {catalog()['date']}")
    print(f"{args.model} ({source}), service tier {rates['card']}")
    if rates["threshold"] is not None:
        print(f"long-context rates: the prompt exceeds {rates['threshold']:,} tokens")
    items = [
        ("input (uncached)", args.input - args.cached - args.cache_write, rates["input"], True),
        ("cache read", args.cached, rates["cached_input"], args.cached > 0),
        (f"cache write ({args.cache_ttl})", args.cache_write, rates["cache_write"], args.cache_write > 0),
        ("output", args.output, rates["output"], True),
        ("reasoning", args.reasoning, rates["reasoning"], args.reasoning > 0),
    ]
    print(f"  {'item':<20}{'tokens':>14}{'USD per 1M':>14}{'USD':>16}")
    tokens_cost = 0.0
    for label, n, rate, shown in items:
        cost = n * rate / 1e6
        tokens_cost += cost
        if shown:
            print(f"  {label:<20}{n:>14,}{rate:>14.4f}{cost:>16.8f}")
    if rates["multiplier"] != 1.0:
        label = f"uplift {args.uplift} (x{rates['multiplier']:g})"
        print(f"  {label:<48}{tokens_cost * (rates['multiplier'] - 1):>16.8f}")
    print(f"  {'total':<48}{total:>16.8f}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from .calibrate import fit_traffic, to_scenario
    from .pricing.litellm import from_litellm
    from .scenario import save_scenario

    source = _input_file(args.log, "log")
    out = _output_file(args.out, (".toml", ".json"), "a scenario file name")
    read, limits = log_options(args, _columns(args.column))
    options = {model: from_litellm(model, ignore=args.ignore) for model in args.model}
    fit = fit_traffic(source, **read, **limits)
    assumptions = {k: v for k, v in (("volume", args.volume), ("growth", args.growth), ("horizon", args.horizon),
                                      ("bin", args.bin)) if v is not None}
    scenario = to_scenario(fit, options, trials=args.trials, seed=args.seed, **assumptions)
    save_scenario(scenario, out)
    print(f"costsim fit {source}: {len(fit.log):,} requests over {fit.span.round('1s')}; "
          f"{len(scenario.traffic.classes)} query class(es) in the scenario")
    print(fit.report)
    print(f"\nworst KS distance of a fitted token column: {fit.report.worst_ks():.3f}")
    if fit.cache is not None:
        print(fit.cache)
    print(f"wrote {out} (run it with: costsim run {out})")
    return 0


def _columns(items: Sequence[str]) -> dict[str, str]:
    """``--column FIELD=NAME`` options as a mapping field -> column name."""
    columns = {}
    for item in items:
        field, sep, name = item.partition("=")
        if not sep or not field or not name:
            raise ValueError(f"--column must be FIELD=NAME, e.g. input_tokens=ContextTokens; got {item!r}")
        columns[field] = name
    return columns


def _positive(finite: bool = True) -> Callable[[str], float]:
    """An argparse type: a number > 0, finite unless ``finite`` is False (then ``inf`` is allowed; never NaN)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
        if not value > 0 or (finite and math.isinf(value)):
            raise argparse.ArgumentTypeError(f"must be a {'finite ' if finite else ''}number > 0; got {text!r}")
        return value

    parse.__name__ = "number > 0"
    return parse


def _package(text: str) -> str:
    """An argparse type: a top-level package name (ASCII, no dots)."""
    if not (text.isascii() and text.isidentifier()):
        raise argparse.ArgumentTypeError(f"must be a top-level package name such as mypkg (no dots); got {text!r}")
    return text


def _int_at_least(low: int):
    """An argparse type: an integer >= ``low``, with a message naming the rule."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}; got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="costsim",
        description="Simulate what an AI product costs at production scale, with percentile bands.",
        epilog="Example: costsim demo --trials 50 --days 7 --out results  "
        "(see 'costsim demo --help'; the Python API is documented in the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the built-in demo scenario",
        description="Run the built-in demo: an AI assistant (chat, RAG, agentic and long-context queries) "
        "from a pilot of 1,000 to a production of 100,000 queries a day, deployed three ways (a per-token "
        "API, provisioned capacity, self-hosted GPUs) and priced on the same simulated requests.  Prints "
        "each option's rates, its cost by volume with bands and the crossovers, which classes drive the "
        "bill and the tail of the cost of one query; writes three PNGs and a netCDF result file.",
        epilog="Writes OUT/costsim-demo-crossover.png, OUT/costsim-demo-classes.png, OUT/costsim-demo-tail.png "
        "and OUT/costsim-demo.nc (the sweep; open it with xarray.open_dataset).",
    )
    demo.add_argument("--trials", type=_int_at_least(1), default=20,
                      help="Monte Carlo trials per volume (default 20; more give tighter bands)")
    demo.add_argument("--days", type=_int_at_least(1), default=30, help="days of hourly traffic (default 30)")
    demo.add_argument("--seed", type=_int_at_least(0), default=2026, help="random seed (default 2026)")
    demo.add_argument("--out", default="costsim-demo", help="output folder (default ./costsim-demo)")
    _add_max_hours(demo)
    demo.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                      help="show a progress bar on stderr (default: when stderr is a terminal)")
    demo.set_defaults(func=_demo)

    run = sub.add_parser(
        "run",
        help="run a scenario file (.toml or .json)",
        description="Simulate a scenario file, print a summary and write the result as netCDF "
        "(and, with --plots, a PNG of the cost bands).  Before it starts, the run's size (expected "
        "queries, result memory, rough time) goes to stderr; a run whose result would not fit in "
        "memory is refused.",
        epilog="Example scenario files: python -c 'import costsim.scenario as s; print(s.examples())'",
    )
    run.add_argument("scenario", metavar="SCENARIO", help="scenario file, .toml or .json")
    run.add_argument("--trials", type=_int_at_least(1), default=None, help="override the scenario's trials")
    run.add_argument("--seed", type=_int_at_least(0), default=None, help="override the scenario's seed")
    run.add_argument("--out", default="results.nc",
                     help="netCDF result file (default ./results.nc); an existing file is replaced atomically and "
                     "keeps its permissions, a read-only one (no write permission bit, even for root) is refused, "
                     "and a symbolic link is followed: the file it points to is replaced, the link kept")
    run.add_argument("--plots", default=None, metavar="DIR",
                     help="also write DIR/<scenario>.png of the cost bands (DIR is created if needed; "
                     "the same rules as --out)")
    run.add_argument("--allow-import", action="append", type=_package, default=[], metavar="PACKAGE",
                     help="trust this top-level package (repeatable): a CustomCapacity 'package.module:function' "
                     "in the scenario may import it.  Without it, a scenario file that names code to import is "
                     "refused before anything is imported: loading a file never runs code")
    _add_max_hours(run)
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on the Dask cluster of this scheduler, e.g. tcp://scheduler:8786 "
                     "(needs pip install 'costsim[dask]' here and on the workers)")
    run.add_argument("--connect-timeout", type=_positive(), default=10.0, metavar="SECONDS",
                     help="seconds to wait for the --scheduler to answer (default 10)")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar on stderr (default: for runs of more than about 5 s, "
                     "when stderr is a terminal)")
    run.set_defaults(func=_run)

    opt = sub.add_parser(
        "optimize",
        help="choose capacity and commitments for a scenario file's [optimize] search",
        description="Price every candidate plan of the search a scenario file declares (its [optimize] table: "
        "search, objective, constraints) on the same simulated requests, print the chosen plan, its risk and "
        "the mean-tail efficient frontier, and optionally write every candidate's numbers as netCDF.",
        epilog="Example: costsim optimize right_size.toml --trials 100 --out plans.nc  (the example file: "
        "python -c 'import costsim.scenario as s; print(s.examples())')",
    )
    opt.add_argument("scenario", metavar="SCENARIO", help="scenario file, .toml or .json, with an [optimize] table")
    opt.add_argument("--trials", type=_int_at_least(1), default=None, help="override the scenario's trials")
    opt.add_argument("--seed", type=_int_at_least(0), default=None, help="override the scenario's seed")
    opt.add_argument("--out", default=None,
                     help="also write every candidate over the trials as a netCDF file (the same rules as "
                     "'costsim run --out')")
    opt.add_argument("--allow-import", action="append", type=_package, default=[], metavar="PACKAGE",
                     help="trust this top-level package (repeatable), as for 'costsim run'")
    _add_max_hours(opt)
    opt.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar on stderr (default: for long runs, when stderr is a terminal)")
    opt.set_defaults(func=_optimize)

    report = sub.add_parser(
        "report",
        help="print the summary of a result file",
        description="Print the summary table of a netCDF result file written by 'costsim run' or 'costsim demo'.",
    )
    report.add_argument("result", metavar="RESULT", help="netCDF result file")
    report.set_defaults(func=_report)

    fit = sub.add_parser(
        "fit",
        help="fit a scenario to a request log (CSV)",
        description="Fit traffic to a request log (CSV with a timestamp, input tokens and output tokens per "
        "request; optionally a query class and cached tokens), print the goodness of fit and write a scenario "
        "file projecting it to production, priced under the given models.",
        epilog="Example: costsim fit logs.csv --model gpt-4o --model gpt-4o-mini --volume 50000 --horizon 30D "
        "--out scenario.toml",
    )
    fit.add_argument("log", metavar="LOG", help="request log: CSV, or JSON lines (.jsonl, .ndjson)")
    fit.add_argument("--out", required=True, help="scenario file to write, .toml or .json")
    fit.add_argument("--model", action="append", required=True, metavar="NAME",
                     help="price under this model of the bundled catalog (repeatable), e.g. gpt-4o")
    fit.add_argument("--ignore", action="append", default=[], metavar="PATTERN",
                     help="drop price keys matching this glob (repeatable), e.g. '*audio*'")
    add_log_arguments(fit, int_at_least=_int_at_least)
    fit.add_argument("--volume", type=_positive(), default=None,
                     help="production queries per day (default: the log's rate, with its uncertainty)")
    fit.add_argument("--growth", type=float, default=None, help="compound growth per month (default 0)")
    fit.add_argument("--horizon", default=None, help="simulated span, e.g. 30D (default: the log's span)")
    fit.add_argument("--bin", default=None, help="time bin, e.g. 1h (default: the fit's bin)")
    fit.add_argument("--trials", type=_int_at_least(1), default=100, help="trials of the scenario (default 100)")
    fit.add_argument("--seed", type=_int_at_least(0), default=None, help="seed of the scenario (default: none)")
    fit.set_defaults(func=_fit)
    add_backtest(sub, input_file=_input_file, parse_columns=_columns, positive=_positive(),
                 int_at_least=_int_at_least)

    price = sub.add_parser(
        "price",
        help="price one API call from a LiteLLM price map",
        description="Print what one API call costs, item by item, with the rates of a model in "
        "costsim's bundled price catalog or in a LiteLLM price map (model_prices_and_context_window.json).",
        epilog="Example: costsim price claude-sonnet-4-5 --input 10000 --cached 8000 --output 1000 --tier batch",
    )
    price.add_argument("model", metavar="MODEL", help="model name, e.g. gpt-4o or gemini/gemini-2.5-pro")
    price.add_argument("--input", type=_int_at_least(0), required=True, metavar="N",
                       help="prompt tokens, cache reads and writes included")
    price.add_argument("--output", type=_int_at_least(0), default=0, metavar="M",
                       help="output tokens, reasoning excluded (default 0)")
    price.add_argument("--cached", type=_int_at_least(0), default=0, metavar="K",
                       help="prompt tokens read from the prompt cache (default 0)")
    price.add_argument("--cache-write", type=_int_at_least(0), default=0, metavar="W",
                       help="prompt tokens written to the prompt cache (default 0)")
    price.add_argument("--cache-ttl", choices=("5m", "1h"), default="5m",
                       help="lifetime of the cache writes (default 5m)")
    price.add_argument("--reasoning", type=_int_at_least(0), default=0, metavar="R",
                       help="reasoning tokens, billed in addition to --output (default 0)")
    price.add_argument("--tier", default=None, metavar="TIER",
                       help="service tier: batch, flex, priority, ... (default: standard)")
    price.add_argument("--when", default=None, metavar="TIME",
                       help="UTC time of the call (ISO 8601), for off-peak rates (default: peak)")
    price.add_argument("--uplift", default=None, metavar="NAME",
                       help="apply one of the model's price multipliers, e.g. regional_endpoint, fedramp")
    price.add_argument("--ignore", action="append", default=[], metavar="PATTERN",
                       help="drop price keys matching this glob (repeatable), e.g. '*audio*' for text-only calls")
    price.add_argument("--price-map", default=None, metavar="FILE",
                       help="a LiteLLM price map JSON file (default: costsim's bundled catalog)")
    price.set_defaults(func=_price)
    cli_catalog.add_parser(sub)
    return parser


def _add_max_hours(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-hours", type=_positive(finite=False), default=None, metavar="H",
                        help="refuse, before it starts, a run estimated to take longer than H hours "
                        "(default: the simulator's default limit; inf for none)")


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanups (``finally``, atomic writes) run."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Within: SIGTERM raises :class:`_Terminated` (where a handler can be set: the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# a mistake in the input, from argument checks, loading a file or running a scenario: one line, exit 2
_INPUT_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, OSError)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, (ValueError, OSError)):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``costsim`` console script.

    Returns the exit status: 0 done, 2 an input error (one line on stderr),
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 141 the reader of its
    output went away (``costsim catalog list | head``: quietly, as ``cat`` does).

    Examples
    --------
    >>> main(["price", "gpt-4o", "--input", "1000", "--tier", "express"])
    2
    """
    args = build_parser().parse_args(argv)
    with _sigterm_raises():
        try:
            return args.func(args)
        except KeyboardInterrupt:
            print(f"costsim {args.command}: interrupted", file=sys.stderr)
            return 130
        except _Terminated:
            print(f"costsim {args.command}: terminated", file=sys.stderr)
            return 143
        except BrokenPipeError:
            # stdout is closed: point it at devnull so the interpreter's final flush does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except _INPUT_ERRORS as err:
            print(f"costsim {args.command}: error: {_one_line(err)}", file=sys.stderr)
            return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
