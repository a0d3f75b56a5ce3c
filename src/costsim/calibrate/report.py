"""Goodness of fit: how well a fitted traffic matches its log (the numbers are in
:class:`~costsim.calibrate.FitReport`; QQ points here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_int
from ..traffic.distributions import Distribution, Mixture
from .fitted import FitReport, TrafficFit
from .tokens import ks_distance

__all__ = ["FitReport", "qq_points"]  # FitReport (defined in .fitted) is importable from here too


def qq_points(fit: TrafficFit, column: str = "input_tokens", *, qclass: str | None = None,
              n: int = 200) -> pd.DataFrame:
    """Quantiles of a log column beside those of its fit (for a QQ plot).

    The model is the fit of every query class of the log class ``qclass`` (all
    classes when None), latent segments included, weighted by their shares;
    its quantiles are those of the rounded draws the simulation makes.

    Parameters
    ----------
    fit : TrafficFit
        The fit.
    column : {"input_tokens", "output_tokens"}
        The token column.
    qclass : str, optional
        A class of the log (default: the whole log).
    n : int, default 200
        Probabilities ``(i - 0.5) / n`` plus 0.995 and 0.999.

    Returns
    -------
    pandas.DataFrame
        Columns ``probability``, ``log`` and ``fit`` (tokens); ``attrs`` hold the
        ``ks`` distance of the pooled fit, the ``column`` and the ``qclass``.

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> fit = cs.fit_traffic({"timestamp": np.arange(1000.0), "input_tokens": np.round(rng.lognormal(6, 1, 1000)),
    ...                       "output_tokens": np.round(rng.lognormal(4, 0.5, 1000))}, families=["LogNormal"])
    >>> pts = qq_points(fit, "input_tokens", n=50)
    >>> pts.shape, bool(pts.attrs["ks"] < 0.05)
    ((52, 3), True)
    """
    n = check_int("n", n, low=1)
    if column not in ("input_tokens", "output_tokens"):
        raise ValueError(f"column must be 'input_tokens' or 'output_tokens'; got {column!r}")
    parts = [c for c in fit.classes.values() if qclass is None or c.qclass == qclass]
    if not parts:
        raise ValueError(f"qclass: no class {qclass!r} in the fit; the log has {sorted({c.qclass for c in fit.classes.values()})}")
    dists = [getattr(c, column).distribution for c in parts]
    model: Distribution = dists[0] if len(dists) == 1 else Mixture(tuple(dists), tuple(c.share for c in parts))
    data = getattr(fit.log, column)
    if qclass is not None:
        data = data[fit.log.qclass == qclass]
    p = np.r_[(np.arange(n) + 0.5) / n, 0.995, 0.999]
    out = pd.DataFrame({"probability": p, "log": np.quantile(data, p, method="inverted_cdf"),
                        "fit": np.round(np.asarray(model.ppf(p), dtype=float))})
    out.attrs.update(ks=ks_distance(model, data), column=column, qclass=qclass)
    return out
