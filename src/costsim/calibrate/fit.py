"""fit_traffic: a costsim Traffic fitted to a request log, with its estimation uncertainty."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..traffic.distributions import Distribution, LogNormal
from ..traffic.query_class import QueryClass
from ..traffic.traffic import Traffic
from ._bootstrap import block_index, log_ratio_variance
from .arrivals import ArrivalFit, default_block, fit_arrivals
from .logs import TrafficLog, read_log
from .report import FitReport
from .segments import find_segments
from .tokens import TokenFit, fit_tokens

__all__ = ["ClassFit", "TrafficFit", "fit_traffic"]


@dataclasses.dataclass(frozen=True)
class ClassFit:
    """What was fitted for one query class.

    Attributes
    ----------
    name : str
        The query class it becomes: the log's class, or ``"<class>/<k>"`` for
        the k-th latent segment of a class (see :mod:`costsim.calibrate.segments`).
    qclass : str
        The log's class it belongs to.
    n : int
        Its rows in the log.
    share : float
        Its share of the rows.
    share_log_var : float
        Block-bootstrap variance of ``log(share)`` (0 with a single class).
    input_tokens, output_tokens : TokenFit
        The token fits.
    input_log_var, output_log_var : float
        Block-bootstrap variance of the log of the column's mean (small-sample
        corrected): how well the log pins down the mean token count.
    cached_fraction : float
        Cached share of the prompt tokens (0 without a cached-tokens column).
    arrivals : ArrivalFit
        The arrivals of its log class (their burstiness is used; the volume comes
        from the whole log).
    """

    name: str
    qclass: str
    n: int
    share: float
    share_log_var: float
    input_tokens: TokenFit
    output_tokens: TokenFit
    input_log_var: float
    output_log_var: float
    cached_fraction: float
    arrivals: ArrivalFit

    def query_class(self, *, share: float | Distribution | None = None,
                    token_var: tuple[float, float] | None = None) -> QueryClass:
        """The class as a :class:`~costsim.QueryClass`.

        Parameters
        ----------
        share : float or Distribution, optional
            Its share (default: the fitted one, uncertain where ``token_var`` is given).
        token_var : (float, float), optional
            None: point estimates.  ``(factor, extra)``: the location parameters
            of the token distributions are drawn per trial so that the variance
            of the log of each column's mean token count is the bootstrap's
            times ``factor``, plus ``extra``.
        """
        if token_var is None:
            inp, out = self.input_tokens.distribution, self.output_tokens.distribution
            default_share: float | Distribution = self.share
        else:
            factor, extra = token_var
            inp = _uncertain_tokens(self.input_tokens, self.input_log_var * factor + extra)
            out = _uncertain_tokens(self.output_tokens, self.output_log_var * factor + extra)
            default_share = LogNormal(math.log(self.share), math.sqrt(self.share_log_var)) \
                if self.share_log_var > 0 else self.share
        return QueryClass(self.name, default_share if share is None else share, inp, out,
                          cached_fraction=self.cached_fraction)


def _fit_unit(log: TrafficLog, mask: np.ndarray, name: str, qclass: str, arrivals: ArrivalFit, blocks: np.ndarray,
              rows_per_block: np.ndarray, several: bool, *, families, cap, seed: int) -> ClassFit:
    """Fit the rows ``mask`` of the log (a class, or a segment of one) as one query class."""
    sub = log.select(mask)
    in_blocks = blocks[mask]
    rows = np.bincount(in_blocks, minlength=rows_per_block.shape[0]).astype(float)

    def log_var(values: np.ndarray) -> float:
        sums = np.bincount(in_blocks, weights=values.astype(float), minlength=rows.shape[0])
        return log_ratio_variance(sums, rows, seed=seed) if values.sum() > 0 else 0.0

    label = f"class {name!r}: " if several else ""
    cached = 0.0
    if sub.cached_tokens is not None and sub.input_tokens.sum() > 0:
        cached = float(sub.cached_tokens.sum() / sub.input_tokens.sum())
    return ClassFit(
        name=name,
        qclass=qclass,
        n=len(sub),
        share=len(sub) / len(log),
        share_log_var=log_ratio_variance(rows, rows_per_block, seed=seed) if several else 0.0,
        input_tokens=fit_tokens(sub.input_tokens, families=families, cap=cap, name=f"{label}input_tokens"),
        output_tokens=fit_tokens(sub.output_tokens, families=families, name=f"{label}output_tokens"),
        input_log_var=log_var(sub.input_tokens),
        output_log_var=log_var(sub.output_tokens),
        cached_fraction=cached,
        arrivals=arrivals,
    )


def _uncertain_tokens(fit: TokenFit, log_var: float) -> Distribution:
    """The fit with independent per-trial location draws whose combined effect on the log
    of the mean has variance ``log_var``: ``sd**2 * sum(g**2) = log_var`` with ``g`` the
    gradient of the log-mean in the components' log-locations.

    The components' draws are independent (costsim draws every uncertain
    parameter on its own stream), so the spread is set from the quantity that
    drives cost, the mean, rather than from each location's own bootstrap spread.
    """
    if log_var <= 0:
        return fit.distribution
    g = fit.log_mean_gradient()
    return fit.with_location_sd(math.sqrt(log_var / float(np.sum(g * g))))


@dataclasses.dataclass(frozen=True, eq=False)
class TrafficFit:
    """A traffic fitted to a log: per-class fits, arrivals and the goodness-of-fit report.

    Use :attr:`traffic` for the point estimate over the log's own span,
    :func:`costsim.project` for production traffic with the estimation
    uncertainty carried to the trial level, and :func:`costsim.pilot_gap` to
    compare with the naive extrapolation.

    Attributes
    ----------
    classes : dict of str to ClassFit
        Per-class fits, in order of first appearance.
    arrivals : ArrivalFit
        Arrivals of the whole log (volume and its uncertainty, profile).
    log : TrafficLog
        The log fitted.
    start : pandas.Timestamp
        First arrival.
    span : pandas.Timedelta
        Time the log covers.
    report : FitReport
        Goodness of fit.
    """

    classes: dict[str, ClassFit]
    arrivals: ArrivalFit
    log: TrafficLog
    start: pd.Timestamp
    span: pd.Timedelta
    report: FitReport

    @property
    def traffic(self) -> Traffic:
        """Point-estimate traffic over the log's span (in whole bins of the fitted bin)."""
        from .project import project

        return project(self, uncertainty=False)

    def sample(self, n: int, *, rng: Any = None) -> pd.DataFrame:
        """Draw ``n`` requests from the point-estimate fit, rounded as the simulation rounds them.

        Returns a DataFrame with columns ``qclass``, ``input_tokens``,
        ``output_tokens`` (for per-request cost quantiles, QQ plots, checks).

        Examples
        --------
        >>> import numpy as np, costsim as cs
        >>> rng = np.random.default_rng(0)
        >>> fit = cs.fit_traffic({"timestamp": np.arange(500.0), "input_tokens": rng.integers(100, 200, 500),
        ...                       "output_tokens": rng.integers(10, 20, 500)}, families=["Gamma"])
        >>> fit.sample(3, rng=1).columns.tolist()
        ['qclass', 'input_tokens', 'output_tokens']
        """
        rng = np.random.default_rng(rng)
        fits = list(self.classes.values())
        counts = rng.multinomial(n, [c.share for c in fits])
        parts = [pd.DataFrame({
            "qclass": c.name,
            "input_tokens": np.round(c.input_tokens.distribution.sample(k, rng=rng)),
            "output_tokens": np.round(c.output_tokens.distribution.sample(k, rng=rng)),
        }) for c, k in zip(fits, counts)]
        return pd.concat(parts, ignore_index=True)

    def __repr__(self) -> str:
        return (f"TrafficFit({len(self.log)} rows, {len(self.classes)} class(es), span {self.span}, "
                f"{self.arrivals.volume:,.0f} requests/day)")


def fit_traffic(
    log: Any,
    *,
    columns: Mapping[str, str] | None = None,
    families: Sequence[str] | None = None,
    cap: str | int | None = "auto",
    bin: str | pd.Timedelta = "1min",
    block: str | pd.Timedelta | None = None,
    span: tuple[Any, Any] | None = None,
    duplicates: str = "warn",
    segments: int = 4,
    seed: int = 0,
) -> TrafficFit:
    """Fit a costsim traffic to a request log.

    Per class (or latent segment of a class): input and output token distributions (family by AIC, caps as
    point masses, see :func:`costsim.calibrate.fit_tokens`), the share of
    requests and the cached share of prompts; for the whole log and per class:
    volume, daily/weekly profile and burstiness (see
    :mod:`costsim.calibrate.arrivals`).  A block bootstrap over time gives the
    uncertainty of the volume, the shares and the mean token counts, which
    :func:`costsim.project` turns into trial-level distributions.

    Parameters
    ----------
    log : pandas.DataFrame, str, os.PathLike, mapping or TrafficLog
        The log (see :func:`costsim.calibrate.read_log`).
    columns : mapping, optional
        Column names per field (``timestamp``, ``input_tokens``,
        ``output_tokens``, ``qclass``, ``cached_tokens``).
    families : sequence of str, optional
        Token families to consider (default all).
    cap : "auto", int or None, default "auto"
        Cap of the input tokens (see :func:`~costsim.calibrate.fit_tokens`);
        outputs always use ``"auto"``.
    bin : str or timedelta, default "1min"
        Bin of the counts whose burstiness is fitted, and the default bin of the
        projected traffic.
    block : str or timedelta, optional
        Time block of the bootstrap (default a tenth of the span).
    span : (start, end), optional
        The window the log covers (default first arrival to last plus one mean gap).
    duplicates : {"warn", "drop", "raise"}, default "warn"
        Rows with repeated timestamps (see :func:`~costsim.calibrate.read_log`).
    segments : int, default 4
        Most latent segments per class (1: none), which carry the dependence of
        output on input (see :mod:`costsim.calibrate.segments`); a class split
        in ``k`` segments becomes query classes ``"<class>/1"`` ... ``"<class>/k"``.
    seed : int, default 0
        Seed of the bootstrap resampling.

    Returns
    -------
    TrafficFit

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> n = 2000
    >>> log = {"timestamp": np.sort(rng.uniform(0, 7200, n)),
    ...        "input_tokens": np.round(rng.lognormal(6.0, 1.0, n)),
    ...        "output_tokens": np.round(rng.lognormal(4.0, 0.7, n))}
    >>> fit = cs.fit_traffic(log, families=["LogNormal"])
    >>> fit.classes["all"].input_tokens.distribution
    LogNormal(mu=6.0..., sigma=0.99...)
    >>> round(fit.arrivals.volume / 24)  # requests per hour
    1000
    """
    log = read_log(log, columns=columns, duplicates=duplicates)
    if span is None:
        start, width = log.start, log.span
    else:
        start, end = pd.Timestamp(span[0]), pd.Timestamp(span[1])
        width = end - start
        outside = int(np.count_nonzero((log.timestamp < start.to_datetime64()) | (log.timestamp >= end.to_datetime64())))
        if not width > pd.Timedelta(0) or outside:
            raise ValueError(f"span must be (start, end) with start < end covering every row; {outside} of "
                             f"{len(log)} rows lie outside {span!r}")
    total = fit_arrivals(log.timestamp, start=start, span=width, bin=bin, block=block, seed=seed)
    blk = default_block(width, pd.Timedelta(bin)) if block is None else pd.Timedelta(block)
    blocks = np.minimum(block_index(log.timestamp, start.to_datetime64(), blk), total.n_blocks - 1)
    rows_per_block = np.bincount(blocks, minlength=total.n_blocks).astype(float)
    classes = {}
    many = len(log.class_names) > 1
    for qclass in log.class_names:
        in_class = log.qclass == qclass
        sub = log.select(in_class)
        class_arrivals = fit_arrivals(sub.timestamp, start=start, span=width, bin=bin, block=block, seed=seed)
        labels = find_segments(sub.input_tokens, sub.output_tokens, max_segments=segments)
        n_seg = int(labels.max()) + 1
        for j in range(n_seg):
            name = qclass if n_seg == 1 else f"{qclass}/{j + 1}"
            mask = np.zeros(len(log), dtype=bool)
            mask[np.flatnonzero(in_class)[labels == j]] = True
            classes[name] = _fit_unit(log, mask, name, qclass, class_arrivals, blocks, rows_per_block,
                                      many or n_seg > 1, families=families, cap=cap, seed=seed)
    return TrafficFit(classes, total, log, start, width, FitReport.build(classes, total))
