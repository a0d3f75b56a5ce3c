"""fit_traffic: a costsim Traffic fitted to a request log, with its estimation uncertainty."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import ParameterError, check_int
from ._bootstrap import block_index, log_ratio_variance
from .arrivals import ArrivalFit, check_bins, fit_arrivals
from .caching import CacheFit, fit_caching
from .drift import fit_drift
from .fitted import ClassFit, TrafficFit
from .joint import BlockSums
from .logs import TrafficLog, _instant, read_log
from .report import FitReport
from .segments import find_segments
from .sessions import SessionFit, fit_sessions
from .tokens import check_cap, check_families, fit_tokens

__all__ = ["ClassFit", "TrafficFit", "fit_traffic"]


def _fit_unit(log: TrafficLog, rows: np.ndarray, name: str, qclass: str, arrivals: ArrivalFit, blocks: np.ndarray,
              rows_per_block: np.ndarray, several: bool, *, families, cap, seed: int,
              limits: tuple[int | None, int | None] = (None, None), cache: CacheFit | None = None,
              session: SessionFit | None = None) -> ClassFit:
    """Fit the rows ``rows`` (indices) of the log (a class, or a segment of one) as one query class
    (conversations of the session model where ``session`` is given: ``session.first_rows`` index ``rows``)."""
    inp, out = log.input_tokens[rows], log.output_tokens[rows]
    in_blocks = blocks[rows]
    per_block = np.bincount(in_blocks, minlength=rows_per_block.shape[0]).astype(float)

    def log_var(values: np.ndarray) -> float:
        sums = np.bincount(in_blocks, weights=values, minlength=per_block.shape[0])
        return log_ratio_variance(sums, per_block, seed=seed) if values.sum() > 0 else 0.0

    label = f"class {name!r}: " if several else ""
    cached, class_cache = 0.0, None
    if cache is not None:
        class_cache = cache.for_rows(rows, blocks, rows_per_block.shape[0], seed=seed)
        cached = class_cache.steady
    elif log.cached_tokens is not None and inp.sum() > 0:
        cached = float(log.cached_tokens[rows].sum() / inp.sum())
    return ClassFit(
        name=name,
        qclass=qclass,
        n=int(rows.shape[0]),
        share=rows.shape[0] / len(log),
        share_log_var=log_ratio_variance(per_block, rows_per_block, seed=seed) if several else 0.0,
        input_tokens=fit_tokens(inp, families=families, cap=cap, name=f"{label}input_tokens", seed=seed,
                                limit=limits[0]),
        output_tokens=fit_tokens(out, families=families, name=f"{label}output_tokens", seed=seed, limit=limits[1]),
        input_log_var=log_var(inp),
        output_log_var=log_var(out),
        cached_fraction=cached,
        arrivals=arrivals,
        cache=class_cache,
        session=session,
        first_turn_cache=None if cache is None or session is None else
        cache.for_rows(rows[session.first_rows], blocks, rows_per_block.shape[0], seed=seed),
    )



def fit_traffic(
    log: Any,
    *,
    columns: Mapping[str, str] | str | None = None,
    families: Sequence[str] | None = None,
    cap: str | int | None = "auto",
    bin: str | pd.Timedelta = "1min",
    block: str | pd.Timedelta | None = None,
    span: tuple[Any, Any] | None = None,
    duplicates: str = "warn",
    segments: int = 4,
    seed: int = 0,
    unit: str | None = None,
    max_input: int | Mapping[str, int] | None = None,
    max_output: int | Mapping[str, int] | None = None,
    limits_from: Any = None,
    block_tokens: int | None = None,
    cache_ttl: str | pd.Timedelta | None = None,
) -> TrafficFit:
    """Fit a costsim traffic to a request log.

    Per class (or latent segment of a class): input and output token distributions (family by AIC, caps as
    point masses, see :func:`costsim.calibrate.fit_tokens`), the share of
    requests and the cached share of prompts (where the log has prefix hashes
    or session ids, its steady state with its uncertainty, the warm-up and the
    TTL: see :mod:`costsim.calibrate.caching`); where the log has session ids and
    follows costsim's session model, the class's conversations instead (turns
    per run, first prompt, new tokens per turn: a
    :meth:`~costsim.QueryClass.session` class, without latent segments; see
    :mod:`costsim.calibrate.sessions`); for the whole log and per class:
    volume, daily/weekly profile and burstiness (see
    :mod:`costsim.calibrate.arrivals`).  A block bootstrap over time gives the
    uncertainty of the volume, the shares and the mean token counts, which
    :func:`costsim.project` turns into trial-level distributions.

    Parameters
    ----------
    log : pandas.DataFrame, str, os.PathLike, mapping or TrafficLog
        The log (see :func:`costsim.calibrate.read_log`).
    columns : mapping or str, optional
        A preset of :data:`~costsim.calibrate.logs.COLUMN_PRESETS`, or column names per field (``timestamp``, ``input_tokens``,
        ``output_tokens``, ``qclass``, ``cached_tokens``, ``prefix_hashes``,
        ``session``; see :func:`~costsim.calibrate.read_log`).
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
    max_input, max_output : int or mapping of str to int, optional
        Most prompt (context window) and output (``max_tokens``) tokens of a
        request, for all classes or per log class (a class left out has no
        limit): the fitted distributions are capped there (see
        :mod:`costsim.calibrate.tails`), and a row above its limit is an error.
    limits_from : object, optional
        Where a limit is not given: a priced model with ``max_input_tokens`` and
        ``max_output_tokens`` attributes (int or None; a LiteLLM-priced
        :class:`~costsim.TokenPricing`), read where present.
    block_tokens : int, optional
        Tokens per block of a ``prefix_hashes`` column.
    cache_ttl : str or timedelta, optional
        The prompt cache's TTL where known (see :func:`~costsim.calibrate.read_log`);
        otherwise estimated where the log shows it.

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
    >>> fit.classes["all"].input_tokens.body  # the family; a generalized Pareto tail above the top 2 %
    LogNormal(mu=5.99..., sigma=1.00...)
    >>> round(fit.arrivals.volume / 24)  # requests per hour
    1000
    """
    families = check_families(families)
    cap = check_cap(cap)
    segments = check_int("segments", segments, low=1)
    seed = check_int("seed", seed, low=0)
    window = None if span is None else _window(span)
    log = read_log(log, columns=columns, duplicates=duplicates, unit=unit, block_tokens=block_tokens,
                   cache_ttl=cache_ttl)
    limit_of = _limits(max_input, max_output, limits_from, log.class_names)
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
    reuse = log.reuse
    cache = None if reuse is None else fit_caching(
        log.timestamp, log.input_tokens, log.cached_tokens, reuse, span=width / pd.Timedelta(seconds=1),
        blocks=blocks, n_blocks=total.n_blocks, ttl=log.cache_ttl, seed=seed)
    codes, class_names = pd.factorize(log.qclass)
    classes = {}
    unit_rows = []
    session_notes = []
    many = len(class_names) > 1
    seconds = (log.timestamp - start.to_datetime64()) / np.timedelta64(1, "s")
    for code, qclass in enumerate(class_names):
        in_class = np.flatnonzero(codes == code)
        class_arrivals = fit_arrivals(log.timestamp[in_class], start=start, span=width, bin=width_bin, block=blk,
                                      seed=seed)
        session = None
        if log.session is not None:  # conversations: one query class of the session model, where the log fits it
            session, note = fit_sessions(seconds[in_class], log.session[in_class], log.input_tokens[in_class],
                                         log.output_tokens[in_class], span=width / pd.Timedelta(seconds=1),
                                         ttl=None if cache is None else cache.ttl, families=families, seed=seed,
                                         name=qclass if many else "", limit=limit_of(qclass)[0],
                                         cached=None if log.cached_tokens is None else log.cached_tokens[in_class])
            session_notes.append(note)
            if session is not None:  # the burstiness of the queries: the runs' starts
                starts = log.timestamp[in_class[session.first_rows]]
                session = dataclasses.replace(session, arrivals=fit_arrivals(
                    starts, start=start, span=width, bin=width_bin, block=blk, seed=seed))
        labels = np.zeros(in_class.size, dtype=np.int64) if session is not None else \
            find_segments(log.input_tokens[in_class], log.output_tokens[in_class], max_segments=segments, seed=seed)
        n_seg = int(labels.max()) + 1
        for j in range(n_seg):
            name = qclass if n_seg == 1 else f"{qclass}/{j + 1}"
            unit_rows.append(in_class[labels == j])
            classes[name] = _fit_unit(log, unit_rows[-1], name, qclass, class_arrivals, blocks,
                                      rows_per_block, many or n_seg > 1, families=families, cap=cap, seed=seed,
                                      limits=limit_of(qclass), cache=cache, session=session)
    edges = np.minimum(np.arange(total.n_blocks + 1) * blk.value, width.value)
    sums = BlockSums(duration=np.diff(edges) / pd.Timedelta(days=1).value,
                     **{key: np.array([np.bincount(blocks[r], weights=None if col is None else col[r],
                                                   minlength=total.n_blocks) for r in unit_rows], dtype=float)
                        for key, col in (("count", None), ("input", log.input_tokens), ("output", log.output_tokens))})
    drift = fit_drift(log.timestamp, log.input_tokens, log.output_tokens, start=start, span=width, arrivals=total)
    report = FitReport.build(classes, total, drift, cache=cache, log=log, session_notes=session_notes)
    return TrafficFit(classes, total, log, start, width, report, sums.deviations(seed), drift, cache)


def _limits(max_input: Any, max_output: Any, source: Any,
            classes: Sequence[str]) -> Callable[[str], tuple[int | None, int | None]]:
    """The (input, output) limits of a log class, from the arguments (checked here)."""
    given = {}
    for name, value, attribute in (("max_input", max_input, "max_input_tokens"),
                                   ("max_output", max_output, "max_output_tokens")):
        if value is None:
            value = getattr(source, attribute, None)
            name = f"limits_from.{attribute}"
        if isinstance(value, Mapping):
            unknown = sorted(set(map(str, value)) - set(classes))
            if unknown:
                raise ParameterError(name, f"must name classes of the log ({list(classes)})", unknown)
            given[name] = {str(k): check_int(f"{name}[{k!r}]", v, low=1) for k, v in value.items()}
        else:
            given[name] = None if value is None else check_int(name, value, low=1)
    entries = list(given.values())

    def of(qclass: str) -> tuple[int | None, int | None]:
        return tuple(e.get(qclass) if isinstance(e, dict) else e for e in entries)  # type: ignore[return-value]

    return of


def _window(span: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The ``span`` argument, ``(start, end)``, as two tz-naive UTC Timestamps with ``start < end``."""
    if not (isinstance(span, Sequence) and not isinstance(span, str) and len(span) == 2):
        raise ParameterError("span", "must be (start, end), two date-times", span)
    start, end = _instant("span[0]", span[0]), _instant("span[1]", span[1])
    if not start < end:
        raise ParameterError("span", "must be (start, end) with start < end", span)
    return start, end
