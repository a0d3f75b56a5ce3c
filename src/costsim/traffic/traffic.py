"""Traffic: query classes arriving over time."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .._model import Model, stream_key
from .arrivals import Arrivals
from .distributions import DistTable
from .query_class import QueryClass

__all__ = ["Traffic", "LoweredTraffic"]


class LoweredTraffic(NamedTuple):
    """Arrays the kernel reads for one trial's traffic."""

    rate: np.ndarray  # float64[B, C] expected requests per bin and class
    burst_shape: float  # gamma shape of the per-bin rate multiplier, 0 for none
    class_key: np.ndarray  # uint64[C] random-stream key of each class
    class_dists: np.ndarray  # int64[C, N_CLASS_DISTS] distribution rows
    class_ttl_1h: np.ndarray  # bool[C] cache writes with a 1-hour lifetime
    dist_kind: np.ndarray
    dist_off: np.ndarray
    dist_par: np.ndarray
    dist_data: np.ndarray


@dataclasses.dataclass(frozen=True)
class Traffic(Model):
    """The traffic to simulate: query classes and their arrivals.

    Parameters
    ----------
    classes : sequence of QueryClass
        At least one; names unique.
    arrivals : Arrivals
        Volume over time, shared by the classes in proportion to their shares.

    Examples
    --------
    >>> from costsim import Arrivals, LogNormal, QueryClass
    >>> chat = QueryClass("chat", 0.8, LogNormal(6.0, 1.0), LogNormal(5.0, 0.8))
    >>> rag = QueryClass("rag", 0.2, LogNormal(8.0, 0.5), LogNormal(5.5, 0.7))
    >>> t = Traffic([chat, rag], Arrivals(volume=10_000, horizon="7D", bin="1h"))
    >>> t.class_names
    ('chat', 'rag')
    """

    classes: tuple[QueryClass, ...]
    arrivals: Arrivals

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

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names of the query classes, in order."""
        return tuple(qc.name for qc in self.classes)

    def _lower(self) -> LoweredTraffic:
        """Lower a traffic whose parameters are all concrete."""
        table = DistTable()
        class_dists = np.array([qc._lower(table) for qc in self.classes], dtype=np.int64)
        shares = np.array([qc.share for qc in self.classes], dtype=float)
        rate = self.arrivals.expected_requests()[:, None] * (shares / shares.sum())[None, :]
        cv = self.arrivals.overdispersion
        dist_kind, dist_off, dist_par, dist_data = table.arrays()
        return LoweredTraffic(
            rate=rate,
            burst_shape=1.0 / (cv * cv) if cv > 0 else 0.0,
            class_key=np.array([stream_key(n) for n in self.class_names], dtype=np.uint64),
            class_dists=class_dists,
            class_ttl_1h=np.array([qc.cache_write_ttl == "1h" for qc in self.classes]),
            dist_kind=dist_kind,
            dist_off=dist_off,
            dist_par=dist_par,
            dist_data=dist_data,
        )
