import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).parent))  # tests/_reference.py and friends

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# a script run in another interpreter (the one with focus-validator, Python >= 3.12), not a test module:
# --doctest-modules would import it here, where focus_validator is absent
collect_ignore = ["analysis/_focus_validator.py"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
