"""Traffic: query classes arriving over time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from .. import kernels as K
from .._limits import MAX_REQUESTS_PER_BIN
from .._model import Model, stream_key, uncertain_parameters
from .arrivals import Arrivals
from .distributions import DistTable
from .processes import MixShift, Modulation, modulation_rng
from .query_class import QueryClass

__all__ = ["Traffic"]


@dataclasses.dataclass(frozen=True)
class Traffic(Model):
    """The traffic to simulate: query classes, their arrivals and how those vary.

    The expected requests of class ``c`` in bin ``b`` are
    ``arrivals.expected_requests()[b] * share[b, c] * M[b] * M_c[b]``: ``share`` the
    class shares (normalised; constant, or moving along the horizon with
    ``mix_shift``), ``M`` the product of the ``modulation`` factors (one draw per
    trial shared by every class) and ``M_c`` the product of the class's own
    ``class_modulation`` factors (drawn independently for each class).  The
    kernel then draws Poisson counts around them (times the shared gamma burst of
    ``Arrivals.overdispersion``).  Random modulations draw from
    :func:`~costsim.traffic.processes.modulation_rng`, keyed on (seed, trial,
    scope, position in the tuple, kind): appending a modulation leaves the others'
    draws unchanged.

    Parameters
    ----------
    classes : sequence of QueryClass
        At least one; names unique.
    arrivals : Arrivals
        Volume over time, shared by the classes in proportion to their shares.
    modulation : sequence of Modulation, optional
        Factors applied to every class at once (e.g. a :class:`FlashEvent`, a
        :class:`LogisticGrowth`, a product-wide :class:`OnOff`).
    class_modulation : mapping of str to sequence of Modulation, optional
        Each named class's own factors (e.g. its :class:`OnOff` bursts and
        :class:`Overdispersion`), drawn independently of the other classes.
    mix_shift : MixShift, optional
        Class shares moving from the classes' ``share`` to ``mix_shift.shares``.

    Notes
    -----
    With a random modulation every trial has its own rate table: ``trials x bins
    x classes`` float64 values (see :mod:`costsim.traffic.processes` for sizes).

    Examples
    --------
    >>> from costsim import Arrivals, LogNormal, OnOff, Overdispersion, QueryClass
    >>> chat = QueryClass("chat", 0.8, LogNormal(6.0, 1.0), LogNormal(5.0, 0.8))
    >>> rag = QueryClass("rag", 0.2, LogNormal(8.0, 0.5), LogNormal(5.5, 0.7))
    >>> t = Traffic([chat, rag], Arrivals(volume=10_000, horizon="7D", bin="1h"))
    >>> t.class_names
    ('chat', 'rag')
    >>> bursty = Traffic([chat, rag], Arrivals(volume=10_000, horizon="7D", bin="1h"),
    ...                  class_modulation={"rag": (Overdispersion(0.5),)})
    >>> bursty.random, bursty.rates(seed=1, trial=0).shape
    (True, (168, 2))
    """

    classes: tuple[QueryClass, ...]
    arrivals: Arrivals
    modulation: tuple[Modulation, ...] | None = None
    class_modulation: dict[str, tuple[Modulation, ...]] | None = None
    mix_shift: MixShift | None = None

    def _validate(self) -> None:
        if isinstance(self.classes, QueryClass):
            object.__setattr__(self, "classes", (self.classes,))
        if not isinstance(self.classes, (list, tuple)) or not self.classes:
            self._fail("classes", "must be a non-empty sequence of QueryClass", self.classes)
        object.__setattr__(self, "classes", tuple(self.classes))
        for i, qc in enumerate(self.classes):
            if not isinstance(qc, QueryClass):
                self._fail(f"classes[{i}]", "must be a QueryClass", qc)
        names = [qc.name for qc in self.classes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            self._fail("classes", "must have unique names", duplicates)
        if not isinstance(self.arrivals, Arrivals):
            self._fail("arrivals", "must be an Arrivals", self.arrivals)
        shares = [qc.share for qc in self.classes]
        if all(isinstance(s, float) for s in shares) and sum(shares) <= 0:
            self._fail("classes", "must have shares with a positive sum", shares)
        # none is None (not an empty container), so a scenario file omits the key
        if self.modulation is not None:
            object.__setattr__(self, "modulation", self._modulations("modulation", self.modulation) or None)
        if self.class_modulation is not None:
            if not isinstance(self.class_modulation, Mapping):
                self._fail("class_modulation", "must be a mapping of class name -> Modulations", self.class_modulation)
            unknown = sorted(set(self.class_modulation) - set(names))
            if unknown:
                self._fail("class_modulation", f"must name classes of this traffic ({names})", unknown)
            object.__setattr__(self, "class_modulation", {
                name: self._modulations(f"class_modulation[{name!r}]", mods)
                for name, mods in self.class_modulation.items()
            } or None)
        if self.mix_shift is not None:
            if not isinstance(self.mix_shift, MixShift):
                self._fail("mix_shift", "must be a MixShift", self.mix_shift)
            if set(self.mix_shift.shares) != set(names):
                self._fail("mix_shift.shares", f"must give a share for exactly the classes {names}",
                           sorted(self.mix_shift.shares))

    def _modulations(self, name: str, value: object) -> tuple[Modulation, ...]:
        if isinstance(value, Modulation):
            value = (value,)
        if not isinstance(value, (list, tuple)):
            self._fail(name, "must be a sequence of Modulation", value)
        for i, item in enumerate(value):
            if not isinstance(item, Modulation):
                self._fail(f"{name}[{i}]", "must be a Modulation (OnOff, Overdispersion, ...)", item)
        return tuple(value)

    @property
    def random(self) -> bool:
        """Whether a modulation draws random numbers (then every trial has its own rates)."""
        return any(m.random for _, _, m in self._scoped_modulations())

    def _scoped_modulations(self) -> Iterator[tuple[str, int, Modulation]]:
        """``(scope, position, modulation)`` for every modulation, shared ones first."""
        for i, m in enumerate(self.modulation or ()):
            yield "traffic", i, m
        for name, mods in (self.class_modulation or {}).items():
            for i, m in enumerate(mods):
                yield f"class:{name}", i, m

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names of the query classes, in order."""
        return tuple(qc.name for qc in self.classes)

    def rates(self, *, seed: int = 0, trial: int = 0) -> np.ndarray:
        """Expected requests per bin and class in one trial, float64[n_bins, n_classes].

        After mix shift and modulation, before the kernel's Poisson draw and
        ``Arrivals.overdispersion``.  ``seed`` and ``trial`` key the random
        modulations (as in :func:`costsim.simulate`); the traffic must have no
        uncertain parameters left (resolve them first).
        """
        found = uncertain_parameters(self)
        if found:
            raise TypeError(f"Traffic has uncertain parameters ({', '.join(found)}); resolve them first")
        n_bins = self.arrivals.n_bins
        shares = np.array([qc.share for qc in self.classes], dtype=float)
        with np.errstate(over="ignore"):
            overflows = not np.isfinite(shares.sum())
        if overflows:  # relative weights: 1e308 and 1e308 are 50/50, not inf/inf
            shares /= shares.max()
        if self.mix_shift is None:
            share = (shares / shares.sum())[None, :]
        else:
            share = self.mix_shift.class_shares(self.class_names, shares, n_bins)
        rate = self.arrivals.expected_requests()[:, None] * share
        column = {f"class:{name}": c for c, name in enumerate(self.class_names)}
        for scope, i, m in self._scoped_modulations():
            rng = modulation_rng(seed, trial, scope, i, type(m).__name__) if m.random else None
            factor = m.factors(self.arrivals, rng)
            if scope == "traffic":
                rate *= factor[:, None]
            else:
                rate[:, column[scope]] *= factor
        self._check_rate(rate)
        return rate

    def _check_rate(self, rate: np.ndarray) -> None:
        """Refuse expected requests per bin beyond :data:`~costsim._limits.MAX_REQUESTS_PER_BIN`."""
        with np.errstate(invalid="ignore"):
            bad = ~(rate <= MAX_REQUESTS_PER_BIN)  # NaN and inf too
        if bad.any():
            b, c = np.argwhere(bad)[0]
            when = pd.Timestamp(self.arrivals.bin_starts()[b])
            self._fail(
                "arrivals",
                f"must give at most {MAX_REQUESTS_PER_BIN} expected requests per time bin and class (with the "
                f"shares, growth and modulations); class {self.class_names[c]!r} expects {rate[b, c]:.3g} in "
                f"the bin at {when}: lower the volume or growth, or use shorter bins",
                self.arrivals,
            )

    def _lower(self, seed: int = 0, trial: int = 0) -> K.TrafficArrays:
        """Lower a traffic whose parameters are all concrete (``seed``, ``trial``: see
        :meth:`rates`): the kernel's arrays of this one trial (a leading axis of 1 on
        the per-trial fields)."""
        table = DistTable()
        class_dists = np.array([qc._lower(table) for qc in self.classes], dtype=np.int64)
        class_copula = np.array([qc._lower_copula(table) for qc in self.classes], dtype=np.float64)
        rate = self.rates(seed=seed, trial=trial)
        cv = self.arrivals.overdispersion
        dist_kind, dist_off, dist_par, dist_data = table.arrays()
        return K.TrafficArrays(
            rate=rate[None],
            burst_shape=np.array([1.0 / (cv * cv) if cv * cv > 0.0 else 0.0]),  # cv**2 may underflow: Poisson
            class_key=np.array([stream_key(n) for n in self.class_names], dtype=np.uint64),
            class_dists=class_dists,
            class_flags=np.array([qc._flags() for qc in self.classes], dtype=np.int64),
            class_copula=class_copula[None],
            dist_kind=dist_kind,
            dist_off=dist_off,
            dist_par=dist_par[None],
            dist_data=dist_data,
        )
