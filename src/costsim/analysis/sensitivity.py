"""Sensitivity: which uncertain trial-level parameters drive the spread of cost.

Two measures per parameter, both on the trial-level draws (``ds["uncertain"]``)
against a per-trial output (total cost by default):

* Spearman's rank correlation: sign and strength of a monotone effect.
* The first-order (main-effect) variance-based index ``Var(E[Y|X]) / Var(Y)``:
  the share of the output's variance explained by the parameter alone.  It is
  estimated by sorting the trials by the parameter, cutting them into ``bins``
  groups of equal size and taking the variance of the group means, less its
  sampling bias (within-group variance / group size).  Both are estimates from
  the trials: with a few hundred trials they tell the parameters that matter from
  those that do not; close values are not a ranking.  The true first-order indices
  of independent parameters sum to at most 1; the estimates carry noise of about
  ``sqrt(2 (bins - 1)) / trials`` each (recorded as ``first_order.attrs["noise"]``),
  so with few trials their sum can exceed 1 and an irrelevant parameter can show a
  few percent.

Each parameter also gets a readable ``label`` (``"agent: cached fraction"``,
``"conv/2: prompt tokens (component 1 mu)"``, ``"frontier: input price"``) beside
its path (``traffic.classes[2].cached_fraction.value``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy.stats import rankdata

from .._validation import check_int
from ._common import option_names

__all__ = ["first_order_index", "parameter_label", "rank_correlation", "sensitivity"]


#: Words for field names in labels (others: underscores become spaces).
_FIELD_WORDS = {"input_tokens": "prompt tokens", "first_prompt": "first prompt tokens"}
#: ... and for the price fields of an option.
_PRICE_WORDS = {"input": "input price", "output": "output price", "cached_input": "cached input price",
                "cache_write": "cache write price", "reasoning": "reasoning price"}


def parameter_label(path: str, classes: Sequence[str] = ()) -> str:
    """A readable name for the path of an uncertain parameter.

    Parameters
    ----------
    path : str
        As in ``ds["uncertain"]["parameter"]``.
    classes : sequence of str
        The query class names, in the traffic's order (``ds["qclass"]``).

    Examples
    --------
    >>> parameter_label("traffic.classes[1].input_tokens.components[0].mu", ["code", "conv/2"])
    'conv/2: prompt tokens (component 1 mu)'
    >>> parameter_label("traffic.classes[2].cached_fraction.value", ["chat", "rag", "agent"])
    'agent: cached fraction'
    >>> parameter_label("options['frontier'].input"), parameter_label("traffic.arrivals.growth")
    ('frontier: input price', 'arrivals: growth')
    >>> parameter_label("traffic.modulation[0].cv"), parameter_label("traffic.class_modulation['chat'][1].cv")
    ('modulation 1: cv', 'chat modulation 2: cv')
    """
    words = _FIELD_WORDS
    if m := re.fullmatch(r"traffic\.classes\[(\d+)\]\.(.+)", path):
        i = int(m.group(1))
        owner, rest = (classes[i] if i < len(classes) else f"class {i + 1}"), m.group(2)
    elif m := re.fullmatch(r"options\['(.+?)'\]\.(.+)", path):
        owner, rest, words = m.group(1), m.group(2), {**_FIELD_WORDS, **_PRICE_WORDS}
    elif m := re.fullmatch(r"traffic\.class_modulation\['(.+?)'\]\[(\d+)\]\.(.+)", path):
        owner, rest = f"{m.group(1)} modulation {int(m.group(2)) + 1}", m.group(3)
    elif m := re.fullmatch(r"traffic\.(\w+)\[(\d+)\]\.(.+)", path):
        owner, rest = f"{m.group(1).replace('_', ' ')} {int(m.group(2)) + 1}", m.group(3)
    elif m := re.fullmatch(r"traffic\.(\w+)\.(.+)", path):
        owner, rest = m.group(1).replace("_", " "), m.group(2)
    else:
        owner, rest = "", path
    field, *details = [p for p in rest.split(".") if p not in ("dist", "value")] or [rest]
    text = words.get(field, field.replace("_", " "))
    details = [re.sub(r"^(\w+?)s?\[(\d+)\]$", lambda d: f"{d.group(1)} {int(d.group(2)) + 1}", p).replace("_", " ")
               for p in details]
    text += f" ({' '.join(details)})" if details else ""
    return f"{owner}: {text}" if owner else text


def _check_pair(x: xr.DataArray, y: xr.DataArray, dim: str) -> None:
    if dim not in x.dims or dim not in y.dims:
        raise ValueError(f"x and y must both have the dim {dim!r}; got {x.dims} and {y.dims}")
    if x.sizes[dim] < 3:
        raise ValueError(f"{dim} must have at least 3 samples; got {x.sizes[dim]}")


def rank_correlation(x: xr.DataArray, y: xr.DataArray, dim: str = "trial") -> xr.DataArray:
    """Spearman's rank correlation of ``x`` and ``y`` along ``dim`` (ties get average ranks).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = xr.DataArray(np.arange(10.0), dims="trial")
    >>> float(rank_correlation(x, x ** 3)), float(rank_correlation(x, -x))
    (1.0, -1.0)
    """
    _check_pair(x, y, dim)

    def rho(a, b):
        ra = rankdata(a, axis=-1)
        rb = rankdata(b, axis=-1)
        ra = ra - ra.mean(-1, keepdims=True)
        rb = rb - rb.mean(-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (ra * rb).sum(-1) / np.sqrt((ra * ra).sum(-1) * (rb * rb).sum(-1))

    out = xr.apply_ufunc(rho, x, y, input_core_dims=[[dim], [dim]])
    out.attrs = {"units": "1", "long_name": "Spearman rank correlation"}
    return out


def first_order_index(x: xr.DataArray, y: xr.DataArray, dim: str = "trial", bins: int | None = None) -> xr.DataArray:
    """First-order variance-based sensitivity index ``Var(E[Y|X]) / Var(Y)``.

    Binning estimator: the samples are sorted by ``x`` and cut into ``bins``
    groups of (nearly) equal size; the variance of the group means of ``y``, less
    the mean within-group variance over the group size (its bias when ``x`` does
    not matter), over the variance of ``y``.  Clipped to [0, 1].

    Parameters
    ----------
    x, y : xarray.DataArray
        Input and output samples along ``dim``.
    bins : int, optional
        Groups; default ``round(sqrt(n))`` (at least 2).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> x1, x2 = (xr.DataArray(rng.uniform(size=4000), dims="trial") for _ in range(2))
    >>> y = 2 * x1 + x2  # Var(2 X1) = 4/12, Var(X2) = 1/12: indices 0.8 and 0.2
    >>> round(float(first_order_index(x1, y)), 1), round(float(first_order_index(x2, y)), 1)
    (0.8, 0.2)
    """
    _check_pair(x, y, dim)
    n = x.sizes[dim]
    if n < 4:
        raise ValueError(f"{dim} must have at least 4 samples (2 groups of 2); got {n}")
    # an integer (int(2.7) was 2 groups, int(nan) numpy's error naming no argument), at least 2 samples a group
    groups = max(2, round(float(np.sqrt(n)))) if bins is None else check_int("bins", bins, low=2, high=n // 2)

    def index(a, b):
        order = np.argsort(a, axis=-1, kind="stable")
        b_sorted = np.take_along_axis(np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)), order, -1)
        parts = np.array_split(b_sorted, groups, axis=-1)
        sizes = np.array([p.shape[-1] for p in parts], dtype=float)
        means = np.stack([p.mean(-1) for p in parts], -1)
        within = np.stack([p.var(-1, ddof=1) for p in parts], -1)
        grand = b_sorted.mean(-1, keepdims=True)
        between = (sizes * (means - grand) ** 2).sum(-1) / n
        bias = (within * (sizes / n)).sum(-1) * (groups - 1) / n  # E[between] when E[Y|X] is flat
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.clip((between - bias) / b_sorted.var(-1), 0.0, 1.0)

    x_b, y_b = xr.broadcast(x, y)
    out = xr.apply_ufunc(index, x_b, y_b, input_core_dims=[[dim], [dim]])
    out.attrs = {"units": "1", "long_name": "First-order sensitivity index",
                 "noise": float(np.sqrt(2 * (groups - 1)) / n), "trials": n}
    return out


def sensitivity(
    ds: xr.Dataset,
    y: xr.DataArray | None = None,
    *,
    option: str | Sequence[str] | None = None,
    bins: int | None = None,
) -> xr.Dataset:
    """Which uncertain parameters drive the spread of total cost, per option.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result with uncertain parameters (``uncertain``).
    y : xarray.DataArray, optional
        The per-trial output to explain; default the total cost per trial and option.
    option : str or sequence of str, optional
        Options to keep (default all).
    bins : int, optional
        Groups of the first-order estimator (see :func:`first_order_index`).

    Returns
    -------
    xarray.Dataset
        ``spearman`` and ``first_order`` with dims ``parameter`` and those of ``y``
        other than ``trial``; parameters sorted by decreasing first-order index of
        the first option, with a readable ``label`` coordinate
        (:func:`parameter_label`).  ``first_order.attrs["noise"]`` is the standard
        deviation of an estimated index where the true one is 0.

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=1_000), cs.demo.demo_options(), trials=20, seed=1)
    >>> s = cs.analysis.sensitivity(ds)
    >>> s["first_order"].dims
    ('parameter', 'option')
    >>> s["label"].values.tolist()
    ['arrivals: growth']
    """
    if "uncertain" not in ds:
        raise ValueError("ds has no uncertain parameters (no 'uncertain' variable): nothing drives the spread")
    names = option_names(ds, option)
    target = ds.costsim.total().sel(option=names) if y is None else y
    x = ds["uncertain"]
    out = xr.Dataset({
        "spearman": rank_correlation(x, target),
        "first_order": first_order_index(x, target, bins=bins),
    })
    out = out.transpose("parameter", ...)
    classes = ds["qclass"].values.tolist() if "qclass" in ds.coords else []
    out = out.assign_coords(label=("parameter", [parameter_label(str(p), classes) for p in out["parameter"].values]))
    lead = out["first_order"]
    if lead.ndim > 1:
        lead = lead.isel({d: 0 for d in lead.dims if d != "parameter"})
    order = np.argsort(-np.nan_to_num(lead.values, nan=-1.0), kind="stable")
    return out.isel(parameter=order)
