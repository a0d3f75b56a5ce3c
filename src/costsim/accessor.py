"""The ``ds.costsim`` accessor: cost statistics on a result Dataset.

Registered with xarray when costsim is imported.  Every method delegates to a
pure function of :mod:`costsim.analysis` (or sums and quantiles of the Dataset).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd
import xarray as xr

from . import analysis
from ._format import quantile_label, usd
from .analysis._common import billed_tokens, check_quantiles, nan_quantiles

__all__ = ["DEFAULT_QUANTILES", "CostsimAccessor"]

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _reduce_dims(da: xr.DataArray, keep: Sequence[Hashable]) -> list[Hashable]:
    return [d for d in da.dims if d not in keep]


@xr.register_dataset_accessor("costsim")
class CostsimAccessor:
    """Cost statistics of a costsim result: ``ds.costsim.<method>``.

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=2), cs.demo.demo_options(), trials=8, seed=3)
    >>> ds.costsim.total().dims
    ('trial', 'option')
    >>> ds.costsim.bands(q=(0.05, 0.95)).dims
    ('quantile', 'time', 'option')
    >>> ds.costsim.unit_cost().dims
    ('trial', 'option', 'qclass')
    """

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def total(
        self, var: str = "cost", dim: str | Sequence[str] = ("time", "qclass")
    ) -> xr.DataArray:
        """``var`` summed over ``dim`` (by default: per trial and option, whole horizon)."""
        da = self._ds[var]
        dims = [dim] if isinstance(dim, str) else list(dim)
        # a dim ``var`` lacks is skipped (capacity variables have no qclass; ds.sel(qclass="chat") neither)
        unknown = [d for d in dims if d not in {*self._ds.dims, *self._ds.coords, "time", "qclass"}]
        if unknown:  # a typo would sum nothing
            raise ValueError(f"dim must name dims of the result {list(self._ds.dims)}; got unknown {unknown}")
        out = da.sum([d for d in dims if d in da.dims])
        out.attrs = {**da.attrs, "long_name": f"Total {da.attrs.get('long_name', var).lower()}"}
        return out

    def bands(
        self,
        q: Sequence[float] = DEFAULT_QUANTILES,
        *,
        var: str = "cost",
        dim: str = "trial",
        over: str | Sequence[str] = ("qclass",),
        cumulative: bool = False,
    ) -> xr.DataArray:
        """Percentile bands of ``var`` across ``dim``, on a ``quantile`` dim.

        ``var`` is first summed over ``over`` (default: all query classes), then
        accumulated along ``time`` if ``cumulative``.
        """
        qs = check_quantiles(q)
        da = self.total(var, over)
        if cumulative:
            da = da.cumsum("time", keep_attrs=True)
        out = da.quantile(qs, dim=dim, keep_attrs=True)
        name = self._ds[var].attrs.get("long_name", var)
        out.attrs["long_name"] = f"Cumulative {name.lower()}" if cumulative else name
        return out

    def unit_cost(self, by: str | None = "qclass", per: str = "query") -> xr.DataArray:
        """Cost per query (``per="query"``) or per 1,000 tokens (``per="1k_tokens"``).

        Totals over the horizon; ``by="qclass"`` keeps the class dim, ``by=None``
        pools all classes, ``by="time"`` gives it per time bin (classes pooled).  The tokens are every token billed: prompt, output and
        reasoning (LiteLLM's ``prompt_tokens + completion_tokens``).
        """
        dims = self._ds["cost"].dims
        if by is not None and (by not in {*dims, "qclass"} or by in ("trial", "option")):  # qclass: may be selected
            raise ValueError(f"by must be None or a dim of cost other than trial and option "
                             f"{[d for d in dims if d not in ('trial', 'option')]}; got {by!r}")
        keep = {"trial", "option"} | ({by} if by else set())
        cost = self._ds["cost"].sum(_reduce_dims(self._ds["cost"], keep))
        if per == "query":
            denom = self._ds["requests"]
            units, name = "USD/query", "Cost per query"
        elif per == "1k_tokens":
            denom = billed_tokens(self._ds) / 1000.0
            units, name = "USD/1k tokens", "Cost per 1,000 tokens"
        else:
            raise ValueError(f"per must be 'query' or '1k_tokens'; got {per!r}")
        denom = denom.sum(_reduce_dims(denom, keep))
        out = cost / denom.where(denom > 0)
        out.attrs = {"units": units, "long_name": name}
        return out.transpose(*[d for d in ("trial", "option", "qclass") if d in out.dims], ...)

    def summary(self, q: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """A table to read: per option, total cost and cost per query as dollars, by quantile across trials.

        The cells are text (``"$12,548"``); the numbers are :meth:`total` and
        :meth:`unit_cost`.

        Examples
        --------
        >>> import costsim as cs
        >>> ds = cs.simulate(cs.demo.demo_traffic(days=2), cs.demo.demo_options(), trials=8, seed=3)
        >>> table = ds.costsim.summary()
        >>> list(table.columns)
        ['total p5', 'total p50', 'total p95', 'per query p5', 'per query p50', 'per query p95']
        >>> table.loc["small", "total p50"]  # the median total cost of option "small"
        '$...'
        """
        qs = check_quantiles(q)
        columns = {}
        for what, da in (("total", self.total()), ("per query", self.unit_cost(by=None))):
            values = nan_quantiles(da, qs).transpose("option", "quantile")
            for j, qq in enumerate(qs):
                columns[f"{what} {quantile_label(qq)}"] = [usd(v) for v in values.values[:, j]]
        return pd.DataFrame(columns, index=pd.Index(self._ds["option"].values.tolist(), name="option"))

    # ---- the lessons of costsim.analysis, on the accessor ----------------------------

    def request_cost_quantiles(self, q: Any = (0.5, 0.9, 0.99), **kwargs: Any) -> xr.DataArray:
        """Per-query cost quantiles: :func:`costsim.analysis.request_cost_quantiles`."""
        return analysis.request_cost_quantiles(self._ds, q, **kwargs)

    def cost_share_of_top(self, top: Any = (0.01, 0.1), **kwargs: Any) -> xr.DataArray:
        """Share of cost of the priciest queries: :func:`costsim.analysis.cost_share_of_top`."""
        return analysis.cost_share_of_top(self._ds, top, **kwargs)

    def gini(self, **kwargs: Any) -> xr.DataArray:
        """Gini coefficient of per-query cost: :func:`costsim.analysis.gini`."""
        return analysis.gini(self._ds, **kwargs)

    def exceedance_probability(self, budget: Any, **kwargs: Any) -> xr.DataArray:
        """Chance of exceeding a budget: :func:`costsim.analysis.exceedance_probability`."""
        return analysis.exceedance_probability(self._ds, budget, **kwargs)

    def compare(self, baseline: str, **kwargs: Any) -> Any:
        """Options against a baseline, regret: :func:`costsim.analysis.compare_options`."""
        return analysis.compare_options(self._ds, baseline, **kwargs)

    def unit_cost_table(self, **kwargs: Any) -> Any:
        """Tidy unit-cost table: :func:`costsim.analysis.unit_cost_table`."""
        return analysis.unit_cost_table(self._ds, **kwargs)

    def sensitivity(self, **kwargs: Any) -> xr.Dataset:
        """What drives the spread of cost: :func:`costsim.analysis.sensitivity`."""
        return analysis.sensitivity(self._ds, **kwargs)

    def to_focus(self, **kwargs: Any) -> Any:
        """A FOCUS-shaped cost table: :func:`costsim.analysis.to_focus`."""
        return analysis.to_focus(self._ds, **kwargs)
