"""Joint uncertainty: volume, token location and mix drawn together, per time block.

Busy windows of a log often have shorter requests (across tenths of the Azure
traces the correlation of request count and mean cost per request is -0.65 and
-0.51), so drawing the volume and the token counts independently gives bands
too wide where the effects cancel and too narrow where they add.  Here the log's
time blocks are resampled *together*: each of :data:`SCENARIOS` bootstrap
resamples gives one joint scenario (the volume, each class's share and each
class's mean input and output tokens, as log-deviations from the fit), and
:func:`costsim.project` hands them to every parameter as a
:class:`~costsim.Joint` of one key, so a trial draws one scenario for all.

The deviations are scaled to the variance the projection wants, which keeps
their correlation:

- the volume's by ``sqrt(bootstrap correction * inflation)``;
- a column's common part (the log of the mean over all classes) by
  ``sqrt(correction * (1 + span / horizon) * inflation)``, each class's own
  part (its deviation from the common one) by ``sqrt(correction * (1 + span /
  horizon))``: the prediction variance of a mean over the horizon (see
  :func:`costsim.project`);
- the shares by ``sqrt(correction)``.

``correction`` is the small-sample factor of :mod:`costsim.calibrate._bootstrap`;
``inflation`` is the drift's (:mod:`costsim.calibrate.drift`): the predicted
variance over the bootstrap's, at least 1.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

__all__ = ["SCENARIOS", "BlockSums", "JointDeviations"]

#: Joint scenarios (bootstrap resamples) a projection draws from.
SCENARIOS = 1000


@dataclasses.dataclass(frozen=True, eq=False)
class JointDeviations:
    """Log-deviations of each joint scenario from the fit (``[K]`` or ``[U, K]``), unscaled."""

    volume: np.ndarray
    share: np.ndarray
    input_common: np.ndarray
    output_common: np.ndarray
    input_own: np.ndarray
    output_own: np.ndarray
    correction: float

    def variance(self) -> dict[str, float]:
        """Small-sample corrected variance of the volume's and the common token parts' deviations."""
        return {"volume": self.correction * float(np.var(self.volume)),
                "input_tokens": self.correction * float(np.var(self.input_common)),
                "output_tokens": self.correction * float(np.var(self.output_common))}


@dataclasses.dataclass(frozen=True, eq=False)
class BlockSums:
    """Per time block of a log: its length and, per fitted unit (query class or segment),
    the requests and the input and output tokens.

    Attributes
    ----------
    duration : numpy.ndarray
        ``float[B]`` block lengths (days).
    count, input, output : numpy.ndarray
        ``float[U, B]`` sums per unit and block.
    """

    duration: np.ndarray
    count: np.ndarray
    input: np.ndarray
    output: np.ndarray

    def deviations(self, seed: int) -> JointDeviations:
        """The :data:`SCENARIOS` joint bootstrap resamples, as log-deviations from the whole log."""
        b = self.duration.shape[0]
        pick = np.random.default_rng(seed).integers(b, size=(SCENARIOS, b))
        dur = self.duration[pick].sum(axis=1)
        count, inp, out = (x[:, pick].sum(axis=2) for x in (self.count, self.input, self.output))  # [U, K]
        total = count.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            volume = np.log(total / dur) - np.log(self.count.sum() / self.duration.sum())
            share = np.log(count / total) - np.log(self.count.sum(axis=1) / self.count.sum())[:, None]
            in_common = np.log(inp.sum(axis=0) / total) - np.log(self.input.sum() / self.count.sum())
            out_common = np.log(out.sum(axis=0) / total) - np.log(self.output.sum() / self.count.sum())
            in_unit = np.log(inp / count) - np.log(self.input.sum(axis=1) / self.count.sum(axis=1))[:, None]
            out_unit = np.log(out / count) - np.log(self.output.sum(axis=1) / self.count.sum(axis=1))[:, None]
            in_own, out_own = in_unit - in_common, out_unit - out_common  # -inf - -inf: NaN, fixed below
        fix = np.nan_to_num  # a resample without a unit's rows (or tokens): no deviation for it
        correction = b / (b - 1) * (stats.t.ppf(0.95, b - 1) / stats.norm.ppf(0.95)) ** 2 if b > 1 else 0.0
        return JointDeviations(
            volume=fix(volume, neginf=0.0, posinf=0.0), share=fix(share, neginf=0.0, posinf=0.0),
            input_common=fix(in_common, neginf=0.0, posinf=0.0), output_common=fix(out_common, neginf=0.0, posinf=0.0),
            input_own=fix(in_own, neginf=0.0, posinf=0.0), output_own=fix(out_own, neginf=0.0, posinf=0.0),
            correction=correction,
        )
