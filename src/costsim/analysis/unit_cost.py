"""Unit cost by query class: per query and per 1,000 tokens, with bands."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr

from ._common import check_quantiles, nan_quantiles

__all__ = ["unit_cost_table"]

ALL_CLASSES = "all classes"


def unit_cost_table(ds: xr.Dataset, q: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
    """Tidy table of unit costs per query class and option, as quantiles across trials.

    Unit costs are totals over the horizon (``ds.costsim.unit_cost``): a class's
    cost divided by its queries, or by its thousands of tokens (prompt, output and
    reasoning: every token billed).
    Every option works, capacity ones included (their cost is allocated to
    classes by the simulation).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    q : sequence of float, default (0.05, 0.5, 0.95)
        Quantiles across trials; each becomes a column ``p5``, ``p50``, ...

    Returns
    -------
    pandas.DataFrame
        One row per (per, option, qclass) with ``per`` in ``"query"`` and
        ``"1k_tokens"`` and a row per option for all classes together (qclass
        ``"all classes"``); columns ``per, option, qclass, units`` and one per
        quantile.  NaN where a class has no queries.

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=1)
    >>> table = cs.analysis.unit_cost_table(ds)
    >>> list(table.columns)
    ['per', 'option', 'qclass', 'units', 'p5', 'p50', 'p95']
    >>> len(table)  # 2 units x 3 options x (4 classes + all)
    30
    """
    qs = check_quantiles(q)
    frames = []
    for per in ("query", "1k_tokens"):
        by_class = ds.costsim.unit_cost(by="qclass", per=per)
        pooled = ds.costsim.unit_cost(by=None, per=per).expand_dims(qclass=[ALL_CLASSES])
        da = nan_quantiles(xr.concat([by_class, pooled], dim="qclass"), qs)
        df = da.to_series().unstack("quantile")
        df.columns = [f"p{100 * c:g}" for c in df.columns]
        df = df.reset_index()
        df.insert(0, "per", per)
        df.insert(3, "units", by_class.attrs["units"])
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
