"""Running a simulation: :func:`simulate`, :func:`estimate` (its size before it
starts) and :func:`sweep` (the same scenario at several volumes).

The modules of this folder, read top to bottom:

* :mod:`.dispatch` - the public :func:`simulate`: check the inputs once, size the
  run (:mod:`.sizing`), then run it here or on a Dask cluster (:mod:`.dask`).
* :mod:`.prepare` - check inputs, trial ids, the one seed policy, each trial's
  draws, lowering to the kernel's arrays.
* :mod:`.local` - the in-process runner: kernel (in chunks, interruptible) ->
  bills -> result Dataset.
* :mod:`.progress` - progress bars, chunks of trials, Ctrl-C, the kernel lock.
* :mod:`.sizing` - :func:`estimate`: expected queries, result and peak memory,
  rough time; the guards that refuse runs too large or too long.
* :mod:`.dask` - the trials as tasks on a cluster, each running the local runner.
* :mod:`.volumes` - :func:`sweep`: the same scenario at several volumes.
"""

from .sizing import Estimate, estimate
from .prepare import MAX_SEED
from .dispatch import simulate
from .volumes import sweep

__all__ = ["MAX_SEED", "Estimate", "estimate", "simulate", "sweep"]
