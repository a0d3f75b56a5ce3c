"""Prices that LiteLLM's code supplies where its price map is silent: the one table of them.

A provider may bill a rate its map entry does not list (Fireworks AI bills cache reads at
half the input rate; batch APIs bill half the standard rate).  LiteLLM applies these in
its code, not in ``model_prices_and_context_window.json``, so an importer that reads only
the map bills them wrongly.  :data:`PROVIDER_DEFAULTS` lists every such rule costsim
follows, each with the LiteLLM function it mirrors; :func:`with_provider_defaults` fills
them into an entry before it is parsed, and :data:`BATCH_FALLBACK` is the batch rule the
parser applies per rate and long-context band.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ["BATCH_FALLBACK", "PROVIDER_DEFAULTS", "ProviderDefault", "with_provider_defaults"]


@dataclasses.dataclass(frozen=True)
class ProviderDefault:
    """A rate an entry does not list, derived from one it does.

    Parameters
    ----------
    provider : str
        The entry's ``litellm_provider`` (``"*"``: every provider).
    key : str
        The LiteLLM key that is filled in when the entry lacks it.
    factor : float
        ``key = factor * from_key``.
    from_key : str
        The LiteLLM key it is derived from.
    source : str
        Where LiteLLM 1.110.2 applies the rule (file: function).
    """

    provider: str
    key: str
    factor: float
    from_key: str
    source: str


PROVIDER_DEFAULTS: tuple[ProviderDefault, ...] = (
    ProviderDefault(
        "fireworks_ai", "cache_read_input_token_cost", 0.5, "input_cost_per_token",
        "litellm/llms/fireworks_ai/cache_pricing.py: with_default_cache_read_rate "
        "(FIREWORKS_AI_DEFAULT_CACHE_READ_RATE_RATIO; also inside off_peak_pricing)",
    ),
    ProviderDefault(
        "*", "<rate>_batches", 0.5, "<rate> (same long-context band)",
        "litellm/cost_calculator.py: batch_cost_calculator, _batch_or_half "
        "(\"batch cost is usually half of the regular token cost\")",
    ),
)
"""Every rule costsim follows for rates a price-map entry leaves out."""

BATCH_FALLBACK: ProviderDefault = PROVIDER_DEFAULTS[1]
"""On a model that offers the batch tier, a rate with no ``_batches`` key is
``factor`` times the standard rate of the same long-context band."""


def with_provider_defaults(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """``entry`` with the key-level rows of :data:`PROVIDER_DEFAULTS` filled in.

    Only rows naming the entry's provider apply, only where the key is absent and
    its source key present (in the entry and in its ``off_peak_pricing`` block).

    Examples
    --------
    >>> e = with_provider_defaults({"litellm_provider": "fireworks_ai", "input_cost_per_token": 9e-07})
    >>> e["cache_read_input_token_cost"]
    4.5e-07
    >>> "cache_read_input_token_cost" in with_provider_defaults({"litellm_provider": "openai",
    ...                                                          "input_cost_per_token": 1e-06})
    False
    """
    provider = entry.get("litellm_provider")
    rows = [row for row in PROVIDER_DEFAULTS if row.provider == provider]
    if not rows:
        return entry
    out = dict(entry)
    for row in rows:
        out = _filled(out, row)
        off_peak = out.get("off_peak_pricing")
        if isinstance(off_peak, Mapping) and row.key not in off_peak and _number(off_peak.get(row.from_key)):
            out["off_peak_pricing"] = _filled(dict(off_peak), row)
    return out


def _filled(block: dict[str, Any], row: ProviderDefault) -> dict[str, Any]:
    source = block.get(row.from_key)
    if block.get(row.key) is None and _number(source):
        block[row.key] = row.factor * float(source)
    return block


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
