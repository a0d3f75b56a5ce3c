"""costsim against LiteLLM itself: every chat-capable entry of LiteLLM's map imported and
priced through both codes (``pip install 'costsim[conformance]'``; skipped without LiteLLM).

The harness and the allow-list of LiteLLM's known quirks are in ``_litellm_conformance.py``,
which also prints the full figures as a script.  Requests per model: the long-context
thresholds -1/0/+1 plus ``$COSTSIM_CONFORMANCE_PER_MODEL`` random ones (default 1 here; the
acceptance figures use 20).
"""

import os
from importlib.metadata import version

import pytest

from . import _litellm_conformance as conformance  # sets LITELLM_LOCAL_MODEL_COST_MAP before litellm loads
from costsim.pricing import catalog

pytest.importorskip("litellm", reason="LiteLLM is not installed (pip install 'costsim[conformance]')")
if version("litellm") != "1.110.2":
    pytest.skip(f"the quirk allow-list and the catalog are for LiteLLM 1.110.2, not {version('litellm')}",
                allow_module_level=True)

PER_MODEL = int(os.environ.get("COSTSIM_CONFORMANCE_PER_MODEL", "1"))
# the only reasons costsim may refuse an entry
REFUSALS = {"no per-token price", "per-second pricing"}


@pytest.fixture(scope="module")
def prices():
    return conformance.litellm_map()


def test_the_shipped_catalog_is_litellms_map(prices):
    assert catalog.read(catalog.SHIPPED) == conformance.shipped_catalog(prices)


@pytest.mark.slow
def test_every_chat_entry_imports_and_prices_as_litellm_bills_it(prices):
    report = conformance.run(prices, per_model=PER_MODEL, seed=0)
    assert report.entries > 3_700
    assert set(report.refused) <= REFUSALS, report.refused
    assert report.imported >= report.entries - 124
    for tier in conformance.TIERS:
        assert report.compared[tier] > 0, tier
    shown = "\n".join(f"{name} {tier} {r} costsim {got!r} litellm {want!r}"
                      for name, tier, r, got, want in report.disagreements[:20])
    assert not report.disagreements, f"{len(report.disagreements)} disagreements:\n{shown}"
