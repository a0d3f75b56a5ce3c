"""The built-in demo: an AI assistant product from pilot to production, deployed three ways.

Chat, retrieval-augmented (RAG), agentic and long-context queries with heavy
tails, a month of hourly traffic with a daily and weekly profile, uncertain
growth and bursty arrivals.  :func:`demo_deployments` prices it three ways (a
per-token API, provisioned capacity, self-hosted GPUs) and ``costsim demo``
sweeps the volume from a pilot's :data:`PILOT_VOLUME` to a production
:data:`PRODUCTION_VOLUME` queries a day: the option cheapest in the pilot is the
most expensive in production.  :func:`demo_options` prices the same traffic under
three API vendors.  The token shapes and prices are illustrative, chosen to look
like a real product (late 2026 list prices, GPU rental prices and throughputs of
a large open-weight model); they are not a calibration of any particular service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._format import usd
from .files import write_atomic
from .pricing import LongContextTier, ProvisionedCapacity, SelfHostedGPU, TokenPricing
from .traffic import (
    Arrivals,
    Beta,
    Capped,
    Geometric,
    LogNormal,
    Mixture,
    Normal,
    QueryClass,
    Traffic,
    Uniform,
)

__all__ = ["DEMO_VOLUMES", "PILOT_VOLUME", "PRODUCTION_VOLUME", "demo_deployments", "demo_options", "demo_report",
           "demo_traffic", "describe_option", "write_demo_figures"]

PILOT_VOLUME = 1_000.0
"""Queries a day in the demo's pilot."""

PRODUCTION_VOLUME = 100_000.0
"""Queries a day in the demo's production."""

DEMO_VOLUMES = (1_000.0, 3_000.0, 10_000.0, 30_000.0, 100_000.0)
"""The volumes (queries a day) ``costsim demo`` sweeps, from the pilot to production."""

# Relative traffic per UTC hour (a product used mostly in European/US working hours).
_DAILY = (
    0.35, 0.3, 0.28, 0.3, 0.4, 0.6, 0.9, 1.2, 1.45, 1.6, 1.65, 1.6,
    1.5, 1.55, 1.65, 1.7, 1.6, 1.4, 1.2, 1.0, 0.85, 0.7, 0.55, 0.45,
)
_WEEKLY = (1.15, 1.2, 1.2, 1.15, 1.05, 0.6, 0.55)


def demo_traffic(days: int = 30, volume: float = 50_000.0) -> Traffic:
    """The demo's traffic: ``volume`` queries a day for ``days`` days, hourly bins.

    Examples
    --------
    >>> demo_traffic().class_names
    ('chat', 'rag', 'agent', 'long_context')
    """
    chat = QueryClass(
        "chat",
        share=0.60,
        input_tokens=Capped(LogNormal.from_median_p90(800, 3_000), 32_000),
        output_tokens=Capped(LogNormal.from_median_p90(250, 900), 4_096),
        cached_fraction=Beta(2.0, 5.0),
    )
    rag = QueryClass(
        "rag",
        share=0.25,
        input_tokens=LogNormal.from_median_p90(4_000, 9_000),
        output_tokens=Capped(LogNormal.from_median_p90(300, 800), 4_096),
        cached_fraction=0.1,
    )
    agent = QueryClass(
        "agent",
        share=0.10,
        input_tokens=LogNormal.from_median_p90(3_000, 10_000),
        output_tokens=Capped(LogNormal.from_median_p90(400, 1_500), 8_192),
        cached_fraction=Beta(8.0, 2.0),
        steps=Geometric(p=0.2),
        tool_tokens=LogNormal.from_median_p90(800, 4_000),
    )
    long_context = QueryClass(
        "long_context",
        share=0.05,
        input_tokens=Capped(
            Mixture(
                (LogNormal.from_median_p90(40_000, 90_000), LogNormal.from_median_p90(250_000, 600_000)),
                (0.8, 0.2),
            ),
            1_000_000,
        ),
        output_tokens=Capped(LogNormal.from_median_p90(800, 2_500), 8_192),
    )
    arrivals = Arrivals(
        volume=volume,
        horizon=f"{days}D",
        bin="1h",
        daily_profile=_DAILY,
        weekly_profile=_WEEKLY,
        growth=Normal(0.10, 0.05),
        overdispersion=0.25,
    )
    return Traffic((chat, rag, agent, long_context), arrivals)


def demo_options() -> dict[str, TokenPricing]:
    """Three API vendors (USD per million tokens).

    Examples
    --------
    >>> sorted(demo_options())
    ['frontier', 'midrange', 'small']
    """
    return {
        "frontier": TokenPricing(
            input=3.0, output=15.0, cached_input=0.30,
            long_context=(LongContextTier(200_000, input=6.0, output=22.5, cached_input=0.60),),
        ),
        "midrange": TokenPricing(
            input=1.25, output=10.0, cached_input=0.125,
            long_context=(LongContextTier(200_000, input=2.5, output=15.0, cached_input=0.25),),
        ),
        "small": TokenPricing(input=0.40, output=1.60, cached_input=0.10),
    }


def demo_deployments() -> dict[str, Any]:
    """Three ways to deploy the demo product: a per-token API, provisioned capacity, self-hosted GPUs.

    * ``api``: the frontier vendor of :func:`demo_options`, paid per token;
    * ``provisioned``: 2 units of 300,000 tokens a minute (an output token weighs 4)
      at $12 a unit-hour, paid whether used or not; demand above them spills to the API;
    * ``self_hosted``: replicas of 4 GPUs at $2.00-3.50 a GPU-hour (uncertain: one draw
      per trial), 3,000 prompt and 400 output tokens a second per GPU, autoscaled
      hourly (one hour of lag) from 2 replicas up, plus $8,000 a month of operations;
      demand the running replicas cannot serve spills to the API.

    Examples
    --------
    >>> {name: type(option).__name__ for name, option in demo_deployments().items()}
    {'api': 'TokenPricing', 'provisioned': 'ProvisionedCapacity', 'self_hosted': 'SelfHostedGPU'}
    """
    return {
        "api": demo_options()["frontier"],
        "provisioned": ProvisionedCapacity(units=2, price_per_unit_hour=12.0, tokens_per_minute=300_000,
                                           output_weight=4.0, fallback="api"),
        "self_hosted": SelfHostedGPU(gpu_hour_price=Uniform(2.0, 3.5), prefill_tokens_per_s=3_000,
                                     decode_tokens_per_s=400, gpus_per_replica=4, min_replicas=2, scale_lag="1h",
                                     fixed_monthly=8_000.0, fallback="api"),
    }


def describe_option(option: Any) -> str:
    """The rates of one of the demo's options, in one line (USD).

    Examples
    --------
    >>> for name, option in demo_deployments().items():
    ...     print(f"{name}: {describe_option(option)}")
    api: per token: $3.00/M input, $15.00/M output, $0.30/M cached input; prompts over 200,000 tokens: $6.00/M input, $22.50/M output
    provisioned: 2 units of 300,000 tokens/min (output x4) at $12.00/unit-hour ($17,532/month); spill to api
    self_hosted: replicas of 4 GPUs at $2.00-3.50/GPU-hour, 3,000 prompt + 400 output tokens/s per GPU, 2+ replicas autoscaled, +$8,000/month; spill to api
    """
    if isinstance(option, TokenPricing):
        text = f"per token: {_usd(option.input)}/M input, {_usd(option.output)}/M output"
        if option.cached_input is not None:
            text += f", {_usd(option.cached_input)}/M cached input"
        for tier in option.long_context:
            text += (f"; prompts over {tier.threshold:,} tokens: {_usd(tier.input)}/M input, "
                     f"{_usd(tier.output)}/M output")
        return text
    if isinstance(option, ProvisionedCapacity):
        monthly = option.units * option.price_per_unit_hour * 365.25 / 12 * 24
        return (f"{option.units} units of {option.tokens_per_minute:,.0f} tokens/min (output x{option.output_weight:g}) "
                f"at {_usd(option.price_per_unit_hour)}/unit-hour ({_usd(monthly, 0)}/month){_spill(option)}")
    if isinstance(option, SelfHostedGPU):
        most = "" if option.max_replicas is None else f"-{option.max_replicas}"
        return (f"replicas of {option.gpus_per_replica} GPUs at {_usd(option.gpu_hour_price)}/GPU-hour, "
                f"{option.prefill_tokens_per_s:,.0f} prompt + {option.decode_tokens_per_s:,.0f} output tokens/s per GPU, "
                f"{option.min_replicas}{most or '+'} replicas autoscaled, +{_usd(option.fixed_monthly, 0)}/month"
                f"{_spill(option)}")
    return type(option).__name__


def _usd(value: Any, digits: int = 2) -> str:
    """``$3.00``, or ``$2.00-3.50`` for a uniform uncertain value."""
    if isinstance(value, Uniform):
        return f"${value.low:,.{digits}f}-{value.high:,.{digits}f}"
    return f"${value:,.{digits}f}"


def _spill(option: Any) -> str:
    return "" if option.fallback is None else f"; spill to {option.fallback}"


def demo_report(sw: xr.Dataset, *, tail_option: str = "api") -> str:
    """The demo's story in text, from a :func:`costsim.sweep` of the demo deployments.

    Cost by volume (median and p5-p95 across trials), the crossovers, the
    option cheapest in the pilot (the lowest volume) against production (the
    highest), which classes drive the bill in production, and the tail of
    ``tail_option``'s per-query cost there.

    Examples
    --------
    >>> import costsim as cs
    >>> sw = cs.sweep(demo_traffic(days=1, volume=1.0), demo_deployments(), [1_000, 100_000], trials=4, seed=1)
    >>> print(demo_report(sw).splitlines()[0])
    Cost over 1 day (USD; median, p5-p95 across 4 trials)
    """
    from .analysis import (
        class_shares,
        cost_share_of_top,
        crossovers,
        request_cost_quantiles,
        volume_curves,
    )

    total = volume_curves(sw)["total"]
    names = [str(o) for o in total["option"].values]
    volumes = total["volume"].values
    days = sw.sizes["time"] * _bin_hours(sw) / 24
    lines = [f"Cost over {days:g} day{'s' * (days != 1)} (USD; median, p5-p95 across {sw.sizes['trial']} trials)",
             f"  {'queries/day':>12}" + "".join(f"{n:>31}" for n in names)]
    for v in volumes:
        cells = [total.sel(volume=v, option=n).values for n in names]
        lines.append(f"  {v:>12,.0f}" + "".join(f"{_band(c[1], c[0], c[2]):>31}" for c in cells))
    lines.append("")
    for _, row in crossovers(sw).iterrows():
        lines.append(f"  {row['a']} and {row['b']} cost the same at {row['p50']:,.0f} queries/day "
                     f"(p5-p95 {row['p5']:,.0f}-{row['p95']:,.0f}); below it {row['cheaper_below']} is cheaper")
    median = total.sel(quantile=0.5)
    pilot, production = median.isel(volume=0), median.isel(volume=-1)
    first = str(pilot.idxmin("option").values)
    best = str(production.idxmin("option").values)
    lines.append(f"\nAt {volumes[0]:,.0f} queries/day (the pilot) {first} is the cheapest: "
                 f"{usd(pilot.sel(option=first))}.")
    rank = int((production < production.sel(option=first)).sum())
    where = ("still the cheapest" if rank == 0 else "the most expensive" if rank == len(names) - 1
             else f"number {rank + 1} of {len(names)} by cost")
    versus = "" if rank == 0 else (f", {float(production.sel(option=first) / production.sel(option=best)):.1f}x "
                                   f"{best} ({usd(production.sel(option=best))})")
    lines.append(f"At {volumes[-1]:,.0f} queries/day (production) it is {where}: "
                 f"{usd(production.sel(option=first))}{versus}.")

    prod = sw.isel(volume=-1)
    shares = class_shares(prod, q=0.5)
    lines.append(f"\nWho drives the bill at {volumes[-1]:,.0f} queries/day (median share of queries and of each option's cost)")
    lines.append(f"  {'class':<14}{'queries':>10}" + "".join(f"{n:>14}" for n in names))
    for qc in shares["qclass"].values:
        row = shares.sel(qclass=qc)
        lines.append(f"  {qc!s:<14}{float(row.sel(share='queries', option=names[0])):>10.0%}"
                     + "".join(f"{float(row.sel(share='cost', option=n)):>14.0%}" for n in names))

    q = request_cost_quantiles(prod, [0.5, 0.99, 0.999], option=tail_option, over=("trial", "qclass")).sel(option=tail_option)
    top = cost_share_of_top(prod, [0.01, 0.1], option=tail_option, over=("trial", "qclass")).sel(option=tail_option)
    lines.append(f"\nThe tail ({tail_option}, cost of one query): median {usd(q.sel(quantile=0.5))}, "
                 f"p99 {usd(q.sel(quantile=0.99))}, p99.9 {usd(q.sel(quantile=0.999))}; "
                 f"the priciest 1% of queries cost {float(top.sel(top=0.01)):.0%} of the bill, "
                 f"the priciest 10% {float(top.sel(top=0.1)):.0%}.")
    return "\n".join(lines)


def write_demo_figures(sw: xr.Dataset, folder: str | Path, *, tail_option: str = "api",
                       stem: str = "costsim-demo") -> list[Path]:
    """Three PNGs of the demo's story, written atomically in ``folder`` (created if needed): the crossover
    (cost against volume), the class breakdown and the tail, in production.

    Examples
    --------
    >>> import tempfile, costsim as cs
    >>> sw = cs.sweep(demo_traffic(days=1, volume=1.0), demo_deployments(), [1_000, 100_000], trials=2, seed=1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_demo_figures(sw, d)]
    ['costsim-demo-crossover.png', 'costsim-demo-classes.png', 'costsim-demo-tail.png']
    """
    import matplotlib.pyplot as plt

    from .plot import (
        plot_class_shares,
        plot_lorenz,
        plot_request_cost_ccdf,
        plot_volume_sweep,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    volumes = sw["volume"].values
    prod = sw.isel(volume=-1)
    names = [str(o) for o in sw["option"].values]
    written = []

    fig = plt.figure(figsize=(11, 6.2), layout="constrained")
    for ax in plot_volume_sweep(sw, fig=fig):
        for v, label in ((volumes[0], "pilot"), (volumes[-1], "production")):
            ax.axvline(v, color="0.5", lw=0.8, ls=":")
            ax.annotate(label, (v, 0.5), xycoords=("data", "axes fraction"), xytext=(3 if v == volumes[0] else -3, 0),
                        textcoords="offset points", ha="left" if v == volumes[0] else "right", va="center",
                        rotation=90, fontsize="small", color="0.35")
    fig.suptitle("The option cheapest in the pilot is the most expensive in production", fontsize="large")
    written.append(_save(fig, folder / f"{stem}-crossover.png"))

    fig, axes = plt.subplots(1, len(names), figsize=(4.4 * len(names), 4.4), layout="constrained", sharey=True)
    for ax, name in zip(np.atleast_1d(axes), names):
        plot_class_shares(prod, option=name, ax=ax)
        ax.set_title(name)
        ax.tick_params(axis="x", labelrotation=20)
        if ax is not np.atleast_1d(axes)[0]:
            ax.set_ylabel("")
            ax.get_legend().remove()
    fig.suptitle(f"Who drives the bill at {volumes[-1]:,.0f} queries a day", fontsize="large")
    written.append(_save(fig, folder / f"{stem}-classes.png"))

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    plot_request_cost_ccdf(prod, option=tail_option, ax=left)
    plot_lorenz(prod, option=tail_option, ax=right)
    fig.suptitle(f"The tail: cost of one query ({tail_option}, {volumes[-1]:,.0f} queries a day)", fontsize="large")
    written.append(_save(fig, folder / f"{stem}-tail.png"))
    return written


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        return write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    finally:
        plt.close(fig)


def _bin_hours(ds: xr.Dataset) -> float:
    return float((ds["time"].values[1] - ds["time"].values[0]) / np.timedelta64(1, "h")) if ds.sizes["time"] > 1 else 1.0


def _band(median: float, low: float, high: float) -> str:
    return f"{usd(median)} ({usd(low)}-{usd(high)})"
