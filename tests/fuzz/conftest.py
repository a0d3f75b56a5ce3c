"""Hypothesis profiles and guards of the fuzz suite (issue 11, acceptance 2).

Two profiles:

* ``costsim-fuzz-ci`` (the default, what ``pytest tests/fuzz -m "not slow"`` runs):
  a small, derandomized budget without shrinking, so CI is reproducible, reports a
  failure at once and the suite takes well under a minute on two cores;
* ``costsim-fuzz-large``: the budget of the ``@pytest.mark.slow`` variant of every
  test (``pytest tests/fuzz -m slow``; 300 examples each, ~3 min, part of a full
  ``pytest``), shrinking, derandomized so that CI is reproducible;
  ``COSTSIM_FUZZ_RANDOM=1 COSTSIM_FUZZ_LARGE_EXAMPLES=1000`` for a long hunt with new
  examples on every run.

Every test is made twice from one property by ``_fuzz.fuzz_tests``, which applies a
profile with ``settings(settings.get_profile(...))`` instead of loading it globally, so
the rest of the test suite keeps its own hypothesis settings.
``COSTSIM_FUZZ_EXAMPLES=N`` and ``COSTSIM_FUZZ_LARGE_EXAMPLES=N`` override the budgets.

Guards: the address space of the test process is capped (an allocation the memory
guard misses ends in a MemoryError, a finding, rather than in the kernel's OOM
killer on a shared machine), and an example that runs past a time limit fails with
:class:`~_fuzz.Hang` (see ``_fuzz.watchdog``).
"""

from __future__ import annotations

import os
import resource

import pytest
from hypothesis import HealthCheck, Phase, settings

_QUIET_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                 HealthCheck.large_base_example]

settings.register_profile(
    "costsim-fuzz-ci",
    max_examples=int(os.environ.get("COSTSIM_FUZZ_EXAMPLES", "40")),
    deadline=None,  # numba compiles (or loads its cache) on the first call
    derandomize=True,  # the same examples on every CI run
    database=None,
    # no shrinking in CI: a failure is reported at once (the large profile shrinks it)
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=_QUIET_CHECKS,
    print_blob=True,
)
settings.register_profile(
    "costsim-fuzz-large",
    max_examples=int(os.environ.get("COSTSIM_FUZZ_LARGE_EXAMPLES", "300")),  # 1000+ for a long hunt
    deadline=None,
    # the same examples on every run (CI runs this profile too) unless a hunt asks for new ones
    derandomize=os.environ.get("COSTSIM_FUZZ_RANDOM", "") != "1",
    database=None,
    suppress_health_check=_QUIET_CHECKS,
    print_blob=True,  # a failure prints @reproduce_failure(...) to replay it
)

#: Address-space cap of the test process while the fuzz tests run (bytes).
ADDRESS_SPACE_LIMIT = 8 * 2**30


@pytest.fixture(autouse=True, scope="module")
def _bounded_address_space():
    """Cap the address space, so a runaway allocation raises MemoryError (a finding)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = ADDRESS_SPACE_LIMIT if hard == resource.RLIM_INFINITY else min(ADDRESS_SPACE_LIMIT, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
