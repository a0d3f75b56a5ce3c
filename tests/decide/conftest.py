"""Fixtures of the optimize tests (the scenario lives in _optimize_scenario.py)."""

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent))  # _optimize_scenario.py (after tests/, whose conftest holds SHARED_DATA)

from _optimize_scenario import small_options, small_traffic


@pytest.fixture
def traffic():
    return small_traffic()


@pytest.fixture
def options():
    return small_options()
