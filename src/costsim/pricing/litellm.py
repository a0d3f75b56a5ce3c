"""Import LiteLLM price-map entries as :class:`~costsim.pricing.TokenPricing`.

LiteLLM's ``model_prices_and_context_window.json`` holds, per model, USD **per token**
under keys such as ``input_cost_per_token``.  :func:`from_litellm` maps one entry to a
:class:`TokenPricing` (USD **per million** tokens) that bills what LiteLLM's cost
calculator bills, and :func:`price` prices calls against it (or against a model of the
offline catalog by name: LiteLLM 1.110.2's chat-capable entries, see
:mod:`costsim.pricing.catalog` and ``costsim catalog``).  ``tests/pricing/
test_litellm_conformance.py`` checks this against LiteLLM 1.110.2 itself on every
chat-capable entry; the remaining differences are listed below.

Key families understood
-----------------------
``input_cost_per_token``, ``output_cost_per_token``
    The standard rates.
``cache_read_input_token_cost``, ``cache_creation_input_token_cost``, ``cache_creation_input_token_cost_above_1hr``
    Cache reads, 5-minute and 1-hour cache writes (all part of the prompt).  A cache
    rate the entry does not give bills at the input rate, as in LiteLLM 1.110.2
    (``input_cost_per_token_cache_hit`` is DeepSeek's name for the cache-read rate).
``output_cost_per_reasoning_token``
    Reasoning tokens.  Following LiteLLM, a service tier that has its own output
    rate but no reasoning rate bills reasoning at its output rate, and an explicit
    reasoning rate stays the same above long-context thresholds.
``<key>_above_<N>k_tokens`` (also ``_above_<N>_tokens``)
    Long-context rates for the WHOLE call once prompt tokens exceed ``N * 1000``
    (strictly; inclusively for provider ``xai``, as LiteLLM computes).  A rate missing
    above a threshold is the tier's base rate, as in LiteLLM.
``<key>_flex``, ``<key>_balanced``, ``<key>_priority``, ``<key>_ultrafast``, ``<key>_decisions``
    Service tiers of those names; combined with thresholds as
    ``<key>_above_200k_tokens_priority`` (or ``<key>_priority_above_200k_tokens``).  A
    rate missing in a tier is the standard rate of the same key, as in LiteLLM.
``<key>_batches``
    Service tier ``"batch"``, offered when any ``_batches`` key is listed.  Rates not
    listed follow LiteLLM's ``batch_cost_calculator`` and the providers' batch rule:
    input and output are half the standard rate of the same long-context band; with
    no ``input_cost_per_token_batches`` every rate is half the standard one, with it
    cache reads keep the standard rate and cache writes bill as batch input;
    reasoning bills at the batch output rate.
``tiered_pricing``
    Ranges ``start < prompt <= end`` with one rate set for the whole call: the first
    range (which must start at 0) is the base card, each further one a long-context
    tier with ``threshold = start``; prompts beyond the last range stay in it.  An
    explicit 0 in a range is free (as in LiteLLM 1.110.2).
``off_peak_pricing``
    Rates that replace the standard tier's during ``windows`` (``hours_utc`` as a
    string or list of ``"HH:MM-HH:MM"``, ``weekdays`` 1 = Monday .. 7 = Sunday, read on
    the ``weekday_timezone`` calendar if given: fixed-offset zones only) or the
    every-day ``hours_utc``; unset rates keep the standard ones.
``*_uplift_multiplier``, ``regional_processing_uplift_multiplier_<region>``, ``provider_specific_entry``
    Price multipliers that apply only to some deployments (a regional endpoint,
    FedRAMP, a data-residency region, an inference geo): NOT applied unless chosen
    with ``uplift=`` (``"regional_endpoint"``, ``"fedramp"``, ``"regional_processing_eu"``,
    ``"us"``, ...).
``search_context_cost_per_query``
    USD per web search; becomes ``fee_per_tool_call`` only with ``web_search=True``
    (count the searches as the queries' ``tool_calls``).
``input_cost_per_request``
    USD per request: ``fee_per_request``.
``alias_of``
    The entry is the entry it names.

Rates LiteLLM's code supplies where the map is silent (Fireworks AI cache reads at
half the input rate; the batch rule above) are in one table,
:data:`costsim.pricing.provider_defaults.PROVIDER_DEFAULTS`.  Informational keys
(``max_input_tokens``, ``mode``, ``source``, ``supports_*``, Databricks
``*_dbu_cost_per_token``, which LiteLLM never bills, ...) do not price anything;
``max_input_tokens`` and ``max_output_tokens`` are carried onto the model.  Prices of
what costsim's traffic does not have (audio, image, video, per-character and
per-pixel rates, 12-hour cache writes, ``explicit_cache_read_input_token_cost``,
per-session and grounding tool fees) are recorded in ``TokenPricing.not_applied``
and not billed.  Any other key that looks like a price (per-second pricing, ...)
raises a ValueError naming the model and the keys; pass ``ignore=`` (glob patterns)
to drop keys that do not apply to your traffic.

Where costsim differs from LiteLLM 1.110.2
------------------------------------------
costsim follows the map; LiteLLM's code departs from it in these cases (each
measured, with a worked example, in ``docs/concepts/pricing.md``):

* Batch above a long-context threshold with no ``..._above_N_tokens_batches`` key:
  LiteLLM (``get_batch_cost_rates``) bills the flat batch rate, costsim half the
  standard long-context rate.
* Batch with no ``input_cost_per_token_batches`` on a model with no cache-read rate:
  LiteLLM (``batch_cost_calculator``) bills cache reads at 0 and 1-hour writes at
  half the 5-minute rate; costsim at half the input and half the 1-hour rate.
* ``fireworks_ai`` flex/priority: LiteLLM's Fireworks branch of ``cost_per_token``
  drops the service tier.
* ``perplexity``: LiteLLM's Perplexity ``cost_per_token`` ignores long-context keys,
  cache-write rates, service tiers and ``input_cost_per_request``.
* Names LiteLLM resolves to a sibling entry (``gemini-exp-1206`` priced as
  ``gemini/gemini-exp-1206``'s free entry): costsim prices the entry asked for.
* Off-peak rates apply to the standard tier only; LiteLLM would swap them in for
  every tier (no entry of the 1.110.2 map has both).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import active_path
from .litellm_map import CATALOG, bundled
from .rates import STANDARD, RateCard, effective_rates
from .token import TokenPricing

__all__ = ["CATALOG", "call_rates", "catalog", "from_litellm", "price"]


def catalog() -> dict[str, Any]:
    """The metadata of the catalog in use: ``{"date", "litellm_version", "sources", "license",
    "note", "models"}`` (``models``: the sorted model names).

    Examples
    --------
    >>> info = catalog()
    >>> info["date"]
    '2026-11-27'
    >>> "gpt-4o" in info["models"]
    True
    """
    data = bundled()
    meta = dict(data.get("_meta", {}))
    meta["models"] = sorted(name for name in data if not name.startswith("_") and name != "sample_spec")
    return meta


def from_litellm(
    model: str,
    price_map: str | Path | Mapping | None = None,
    *,
    uplift: str | None = None,
    web_search: bool = False,
    search_context: str = "medium",
    ignore: str | Iterable[str] = (),
) -> TokenPricing:
    """A :class:`TokenPricing` from a model's entry in a LiteLLM price map.

    Rates are converted from LiteLLM's USD per token to USD per million tokens;
    the module docstring lists the keys understood and where costsim differs.

    Parameters
    ----------
    model : str
        The entry's name, e.g. ``"gpt-4o"`` or ``"gemini/gemini-2.5-pro"``.
    price_map : str, Path, mapping or None
        A LiteLLM ``model_prices_and_context_window.json`` (path or loaded dict);
        None uses costsim's bundled catalog (see :func:`catalog`).
    uplift : str, optional
        A price multiplier of the entry to apply: ``"regional_endpoint"`` (a Vertex AI
        regional endpoint), ``"fedramp"``, ``"regional_processing_eu"``, a
        ``provider_specific_entry`` key such as ``"us"``.  None applies none.
    web_search : bool, default False
        Bill ``search_context_cost_per_query`` as ``fee_per_tool_call`` (USD per
        search); the searches are then the ``tool_calls`` of a query.
    search_context : {"low", "medium", "high"}
        The search context size whose price applies with ``web_search``.
    ignore : str or iterable of str
        Glob patterns of keys to drop, for prices your traffic never incurs
        (e.g. ``"*audio*"`` for text-only traffic on a multimodal model).

    Raises
    ------
    ValueError
        Unknown model (with close matches), a price key costsim cannot map, or a
        malformed entry (e.g. overlapping ``tiered_pricing`` ranges).

    Examples
    --------
    >>> p = from_litellm("gpt-4o")
    >>> p.input, p.output, p.cached_input
    (2.5, 10.0, 1.25)
    >>> p.tiers
    ('standard', 'batch', 'priority')
    >>> p.service_tiers["batch"].input
    1.25
    >>> from_litellm("gpt-4o", uplift="fedramp").multiplier
    1.1
    >>> from_litellm("gpt-4o-mini", web_search=True).fee_per_tool_call
    0.025
    """
    return TokenPricing.from_litellm(model, price_map, uplift=uplift, web_search=web_search,
                                     search_context=search_context, ignore=ignore)


# ---- pricing calls -------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _catalog_pricing(model: str, path: Path, mtime_ns: int) -> TokenPricing:
    """``model`` of the catalog in use, keyed by that file's version (``catalog update``)."""
    return from_litellm(model)


def price(
    model: TokenPricing | str,
    input_tokens: Any,
    output_tokens: Any,
    *,
    cache_read_tokens: Any = 0,
    cache_write_tokens: Any = 0,
    cache_write_ttl: str = "5m",
    reasoning_tokens: Any = 0,
    tool_calls: Any = 0,
    service_tier: str | None = None,
    when: Any = None,
) -> np.ndarray:
    """USD cost of single API calls (arrays broadcast), with the simulation's compiled code.

    Parameters
    ----------
    model : TokenPricing or str
        Pricing, or the name of a model in the bundled catalog (see :func:`catalog`).
    input_tokens : int or array of int
        Prompt tokens, cache reads and cache writes included (LiteLLM's ``prompt_tokens``).
    output_tokens : int or array of int
        Output tokens other than reasoning ones: LiteLLM's ``completion_tokens`` minus
        ``reasoning_tokens``.
    cache_read_tokens : int or array of int
        Prompt tokens read from the prompt cache.
    cache_write_tokens : int or array of int
        Prompt tokens written to the prompt cache.
    cache_write_ttl : {"5m", "1h"}
        Lifetime of the cache writes (1-hour writes have their own rate).
    reasoning_tokens : int or array of int
        Reasoning tokens, billed at the reasoning rate in addition to ``output_tokens``.
    tool_calls : int or array of int
        Priced tool calls (e.g. web searches, see ``from_litellm(web_search=True)``).
    service_tier : str, optional
        ``"batch"``, ``"flex"``, ``"priority"``, ...; None is the standard tier.
    when : datetime64, datetime, str or array, optional
        UTC times of the calls (aware times are converted), which select off-peak
        rates; None bills peak rates.

    Returns
    -------
    numpy.ndarray
        USD per call, of the broadcast shape (empty inputs give an empty array).

    Raises
    ------
    ValueError
        An unknown model; otherwise the errors of :meth:`TokenPricing.price
        <costsim.pricing.PricingModel.price>`, which checks the arguments.

    Examples
    --------
    >>> float(price("gpt-4o", 1_000, 500))
    0.0075
    >>> price("gpt-4o", [1_000, 10_000], 500, cache_read_tokens=800, service_tier="priority")
    array([0.01105, 0.0493 ])
    >>> float(price("deepseek/deepseek-v4-flash", 1_000_000, 0, when="2026-11-28T12:00"))  # a Saturday
    0.15
    """
    if isinstance(model, str):
        path = active_path()
        pricing = _catalog_pricing(model, path, path.stat().st_mtime_ns)
    elif isinstance(model, TokenPricing):
        pricing = model
    else:
        raise ValueError(f"model must be a TokenPricing or a catalog model name; got {model!r}")
    return pricing.price(input_tokens, output_tokens, cache_read_tokens=cache_read_tokens,
                         cache_write_tokens=cache_write_tokens, reasoning_tokens=reasoning_tokens,
                         tool_calls=tool_calls, service_tier=STANDARD if service_tier is None else service_tier,
                         cache_write_ttl=cache_write_ttl, when=when)


def call_rates(
    pricing: TokenPricing,
    input_tokens: int,
    *,
    service_tier: str = STANDARD,
    cache_write_ttl: str = "5m",
    off_peak: bool = False,
) -> dict[str, Any]:
    """The per-million rates that bill one call of ``input_tokens`` prompt tokens.

    Python (not compiled) resolution of the card, long-context tier and fallbacks, for
    explaining a price: ``{"card", "threshold", "input", "cached_input", "cache_write",
    "output", "reasoning", "multiplier"}`` where ``threshold`` is that of the
    long-context tier in force (None: the card's own rates) and ``cache_write`` is the
    rate of ``cache_write_ttl``.

    Examples
    --------
    >>> r = call_rates(from_litellm("gemini/gemini-2.5-pro"), 250_000)
    >>> r["threshold"], r["input"], r["output"]
    (200000, 2.5, 15.0)
    """
    if service_tier not in pricing.tiers:
        raise ValueError(f"service_tier {service_tier!r} is not offered; it offers {list(pricing.tiers)}")
    name = service_tier
    card: RateCard = pricing if service_tier == STANDARD else pricing.service_tiers[service_tier]
    if off_peak and service_tier == STANDARD and pricing.off_peak is not None:
        card, name = pricing.off_peak.rates, f"{STANDARD} (off-peak)"
    band: Any = card
    for tier in card.long_context:
        if input_tokens > tier.threshold:
            band = tier
    rates = effective_rates(band)
    return {
        "card": name,
        "threshold": getattr(band, "threshold", None),
        "input": rates["input"],
        "cached_input": rates["cached_input"],
        "cache_write": rates["cache_write_1h" if cache_write_ttl == "1h" else "cache_write"],
        "output": rates["output"],
        "reasoning": rates["reasoning"],
        "multiplier": pricing.multiplier,
    }
