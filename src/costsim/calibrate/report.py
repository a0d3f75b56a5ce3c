"""Goodness of fit: how well a fitted traffic matches its log."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._validation import check_int
from ..traffic.distributions import Distribution, Mixture
from .tokens import ks_distance

if TYPE_CHECKING:
    from .arrivals import ArrivalFit
    from .fit import ClassFit, TrafficFit

__all__ = ["FitReport", "qq_points"]


@dataclasses.dataclass(frozen=True)
class FitReport:
    """Goodness of fit of a :class:`~costsim.calibrate.TrafficFit`.

    Attributes
    ----------
    tokens : pandas.DataFrame
        One row per (class, column): rows fitted, the chosen family, the cap and
        its mass, the KS distance between the rounded fit and the log, the AIC
        of the chosen family and its margin over the runner-up, and the
        relative standard error of the column's mean (block bootstrap).
    arrivals : pandas.DataFrame
        One row per class and one for ``"(all)"``: requests per day, the 90 %
        band of the volume, the index of dispersion and the share of empty bins
        of the per-bin counts, and the burstiness model.
    """

    tokens: pd.DataFrame
    arrivals: pd.DataFrame

    @classmethod
    def build(cls, classes: dict[str, ClassFit], total: ArrivalFit) -> FitReport:
        rows = []
        for c in classes.values():
            for column, fit, var in (("input_tokens", c.input_tokens, c.input_log_var),
                                     ("output_tokens", c.output_tokens, c.output_log_var)):
                ranked = sorted(fit.aic.values())
                rows.append({
                    "qclass": c.name, "column": column, "rows": fit.n, "family": fit.family,
                    "cap": fit.pile.cap if fit.pile else None, "cap_mass": fit.pile.mass if fit.pile else 0.0,
                    "ks": fit.ks, "aic": ranked[0], "aic_margin": ranked[1] - ranked[0] if len(ranked) > 1 else math.nan,
                    "mean_rel_se": math.sqrt(var),
                })
        arr = []
        for name, a in [("(all)", total), *((c.name, c.arrivals) for c in classes.values())]:
            band = (a.volume * math.exp(-1.645 * a.volume_log_sd), a.volume * math.exp(1.645 * a.volume_log_sd))
            arr.append({
                "qclass": name, "per_day": a.volume, "per_day_p5": band[0], "per_day_p95": band[1],
                "dispersion_index": a.dispersion_index, "empty_fraction": a.empty_fraction,
                "burstiness": " x ".join(type(m).__name__ for m in a.modulation) or "Poisson",
                "daily_profile": a.daily_profile is not None,
            })
        return cls(pd.DataFrame(rows).set_index(["qclass", "column"]), pd.DataFrame(arr).set_index("qclass"))

    def worst_ks(self) -> float:
        """Largest KS distance over all token columns."""
        return float(self.tokens["ks"].max())

    def __str__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 4):
            return f"Token distributions\n{self.tokens}\n\nArrivals\n{self.arrivals}"


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
