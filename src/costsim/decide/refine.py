"""``method="refine"``: a local search over the grid that prices a few candidates, not all.

A candidate is a point of the grid: one position in each key's list of values.
:func:`pattern_search` is a compass search with successive refinement on those
positions: it starts at the middle of every list with a step of about a quarter
of its length, tries one step up and one step down along each key in turn,
moves while that lowers the score, and halves the steps when no move does; it
stops when no neighbour one position away along any key lowers the score (or
when it has priced its budget of candidates).  The score of a candidate is
``(violation of the constraints, objective)``, compared in that order: the
search prefers feasible candidates, and among them the lowest objective, as the
choice over a whole grid does.

On a list of n values it prices about 2 log2(n) + (moves) candidates per key and
sweep: some 15 to 30 for a hundred values where a grid prices a hundred, a few
hundred for several keys of hundreds of values each where a grid would price
millions.  Where the score is convex along the grid (a newsvendor's capacity, a
commitment's size) the point it stops at is the optimum of the whole grid; where
it is not (several valleys; a constraint boundary that bends; parameters that
only pay off together, such as a diagonal valley of two keys), it is a *local*
optimum: no neighbour along any single key is better, but a point further away
may be.  Search a coarse grid first when in doubt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

__all__ = ["Trace", "pattern_search"]

Point = tuple[int, ...]
Score = tuple[float, float]


@dataclasses.dataclass
class Trace:
    """What a :func:`pattern_search` did: the points priced, in order, and the best."""

    points: list[Point]
    best: Point
    converged: bool  # False: stopped by the budget before no neighbour was better


def pattern_search(sizes: Sequence[int], score: Callable[[Point], Score], budget: int) -> Trace:
    """Minimise ``score`` over the points of a grid of ``sizes`` positions per key.

    ``score`` is called once per point priced (at most ``budget`` points); scores
    are compared as tuples, a move needs a strictly lower score (so the search
    ends).

    Examples
    --------
    A convex function of two positions on a 200 x 300 grid (60,000 points):

    >>> trace = pattern_search((200, 300), lambda p: (0.0, (p[0] - 37) ** 2 + 2 * (p[1] - 250) ** 2), budget=500)
    >>> trace.best, trace.converged, len(trace.points) < 100
    ((37, 250), True, True)
    """
    scores: dict[Point, Score] = {}
    order: list[Point] = []

    def priced(point: Point) -> Score | None:
        if point not in scores:
            if len(order) >= budget:
                return None
            scores[point] = score(point)
            order.append(point)
        return scores[point]

    current = tuple((n - 1) // 2 for n in sizes)
    priced(current)
    steps = [max(1, (n - 1) // 4) for n in sizes]
    while True:
        moved = False
        for k, n in enumerate(sizes):
            for direction in (1, -1):
                while True:  # keep going while it pays
                    position = current[k] + direction * steps[k]
                    if not 0 <= position < n:
                        break
                    candidate = current[:k] + (position,) + current[k + 1:]
                    found = priced(candidate)
                    if found is None:
                        return Trace(order, current, False)  # the best priced: moves only go down
                    if found >= scores[current]:
                        break
                    current, moved = candidate, True
        if not moved:
            if all(step == 1 for step in steps):
                return Trace(order, current, True)
            steps = [max(1, step // 2) for step in steps]
