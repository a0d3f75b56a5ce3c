"""fit_traffic: a costsim Traffic fitted to a request log, with its estimation uncertainty."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import ParameterError, check_int
from ._bootstrap import block_index, log_ratio_variance
from .arrivals import ArrivalFit, check_bins, fit_arrivals
from .drift import fit_drift
from .fitted import ClassFit, TrafficFit
from .joint import BlockSums
from .logs import TrafficLog, _instant, read_log
from .report import FitReport
from .segments import find_segments
from .tokens import check_cap, check_families, fit_tokens

__all__ = ["ClassFit", "TrafficFit", "fit_traffic"]


def _fit_unit(log: TrafficLog, rows: np.ndarray, name: str, qclass: str, arrivals: ArrivalFit, blocks: np.ndarray,
              rows_per_block: np.ndarray, several: bool, *, families, cap, seed: int) -> ClassFit:
    """Fit the rows ``rows`` (indices) of the log (a class, or a segment of one) as one query class."""
    inp, out = log.input_tokens[rows], log.output_tokens[rows]
    in_blocks = blocks[rows]
    per_block = np.bincount(in_blocks, minlength=rows_per_block.shape[0]).astype(float)

    def log_var(values: np.ndarray) -> float:
        sums = np.bincount(in_blocks, weights=values, minlength=per_block.shape[0])
        return log_ratio_variance(sums, per_block, seed=seed) if values.sum() > 0 else 0.0

    label = f"class {name!r}: " if several else ""
    cached = 0.0
    if log.cached_tokens is not None and inp.sum() > 0:
        cached = float(log.cached_tokens[rows].sum() / inp.sum())
    return ClassFit(
        name=name,
        qclass=qclass,
        n=int(rows.shape[0]),
        share=rows.shape[0] / len(log),
        share_log_var=log_ratio_variance(per_block, rows_per_block, seed=seed) if several else 0.0,
        input_tokens=fit_tokens(inp, families=families, cap=cap, name=f"{label}input_tokens", seed=seed),
        output_tokens=fit_tokens(out, families=families, name=f"{label}output_tokens", seed=seed),
        input_log_var=log_var(inp),
        output_log_var=log_var(out),
        cached_fraction=cached,
        arrivals=arrivals,
    )



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
    unit: str | None = None,
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
        Token families to consider (default all; see :func:`~costsim.calibrate.fit_tokens`).
    cap : "auto", int or None, default "auto"
        Cap of the input tokens (see :func:`~costsim.calibrate.fit_tokens`);
        outputs always use ``"auto"``.
    bin : str or timedelta, default "1min"
        Bin of the counts whose burstiness is fitted, and the default bin of the
        projected traffic: positive, at most half the span, at most
        :data:`~costsim.calibrate.arrivals.MAX_BINS` bins in it.
    block : str or timedelta, optional
        Time block of the bootstrap (default a tenth of the span): at least
        ``bin``, and 2 to :data:`~costsim.calibrate.arrivals.MAX_BLOCKS` blocks
        in the span.
    span : (start, end), optional
        The window the log covers (default first arrival to last plus one mean gap).
    duplicates : {"warn", "drop", "raise"}, default "warn"
        Rows with repeated timestamps (see :func:`~costsim.calibrate.read_log`).
    segments : int, default 4
        Most latent segments per class (1: none), which carry the dependence of
        output on input (see :mod:`costsim.calibrate.segments`); a class split
        in ``k`` segments becomes query classes ``"<class>/1"`` ... ``"<class>/k"``.
    seed : int, default 0
        Seed of the bootstrap resampling and of the subsamples a large log's
        token and segment fits use.
    unit : {"s", "ms", "us", "ns"}, optional
        Unit of numeric timestamps (default inferred; see
        :func:`~costsim.calibrate.read_log`).

    Returns
    -------
    TrafficFit

    Notes
    -----
    Work grows linearly with the log's rows: the token likelihoods run on the
    distinct counts, and a class or segment of more than
    :data:`~costsim.calibrate.tokens.FIT_ROWS` rows has its token families and
    latent segments fitted on a random subsample of that many rows (drawn with
    ``seed``); counts per bin, volume, profile, shares, caps, mean token counts,
    their bootstrap and the goodness of fit use every row.  10 million rows fit
    in well under a minute (``benchmarks/bench_fit.py``).

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
    families = check_families(families)
    cap = check_cap(cap)
    segments = check_int("segments", segments, low=1)
    seed = check_int("seed", seed, low=0)
    window = None if span is None else _window(span)
    log = read_log(log, columns=columns, duplicates=duplicates, unit=unit)
    if window is None:
        start, width = log.start, log.span
        if width <= pd.Timedelta(0):
            raise ValueError(f"log: all {len(log)} rows arrived at {log.start}; a rate needs arrivals at different "
                             "times")
    else:
        start, width = window[0], window[1] - window[0]
        outside = int(np.count_nonzero((log.timestamp < start.to_datetime64()) |
                                       (log.timestamp >= window[1].to_datetime64())))
        if outside:
            raise ValueError(f"span must be (start, end) with start < end covering every row; {outside} of "
                             f"{len(log)} rows lie outside {span!r}")
    width_bin, blk = check_bins(width, bin, block)
    total = fit_arrivals(log.timestamp, start=start, span=width, bin=width_bin, block=blk, seed=seed)
    blocks = np.minimum(block_index(log.timestamp, start.to_datetime64(), blk), total.n_blocks - 1)
    rows_per_block = np.bincount(blocks, minlength=total.n_blocks).astype(float)
    codes, class_names = pd.factorize(log.qclass)
    classes = {}
    unit_rows = []
    many = len(class_names) > 1
    for code, qclass in enumerate(class_names):
        in_class = np.flatnonzero(codes == code)
        class_arrivals = fit_arrivals(log.timestamp[in_class], start=start, span=width, bin=width_bin, block=blk,
                                      seed=seed)
        labels = find_segments(log.input_tokens[in_class], log.output_tokens[in_class], max_segments=segments,
                               seed=seed)
        n_seg = int(labels.max()) + 1
        for j in range(n_seg):
            name = qclass if n_seg == 1 else f"{qclass}/{j + 1}"
            unit_rows.append(in_class[labels == j])
            classes[name] = _fit_unit(log, unit_rows[-1], name, qclass, class_arrivals, blocks,
                                      rows_per_block, many or n_seg > 1, families=families, cap=cap, seed=seed)
    edges = np.minimum(np.arange(total.n_blocks + 1) * blk.value, width.value)
    sums = BlockSums(duration=np.diff(edges) / pd.Timedelta(days=1).value,
                     **{key: np.array([np.bincount(blocks[r], weights=None if col is None else col[r],
                                                   minlength=total.n_blocks) for r in unit_rows], dtype=float)
                        for key, col in (("count", None), ("input", log.input_tokens), ("output", log.output_tokens))})
    drift = fit_drift(log.timestamp, log.input_tokens, log.output_tokens, start=start, span=width, arrivals=total)
    return TrafficFit(classes, total, log, start, width, FitReport.build(classes, total, drift),
                      sums.deviations(seed), drift)


def _window(span: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The ``span`` argument, ``(start, end)``, as two tz-naive UTC Timestamps with ``start < end``."""
    if not (isinstance(span, Sequence) and not isinstance(span, str) and len(span) == 2):
        raise ParameterError("span", "must be (start, end), two date-times", span)
    start, end = _instant("span[0]", span[0]), _instant("span[1]", span[1])
    if not start < end:
        raise ParameterError("span", "must be (start, end) with start < end", span)
    return start, end
