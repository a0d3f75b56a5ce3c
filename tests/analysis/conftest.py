import sys
from pathlib import Path

import pytest

import costsim as cs

sys.path.append(str(Path(__file__).parent))  # _analysis_scenario.py (after tests/, whose conftest holds SHARED_DATA)

from _analysis_scenario import small_options, small_traffic


@pytest.fixture(scope="session")
def ds():
    """Per-request options and a self-hosted one (no per-request costs), 20 trials."""
    return cs.simulate(small_traffic(), small_options(), trials=20, seed=11)
