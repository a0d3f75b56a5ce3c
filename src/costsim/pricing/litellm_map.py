"""The LiteLLM price-map parser behind :mod:`costsim.pricing.litellm`.

Reads the bundled catalog or a user's price map, finds a model's entry and maps it to
the fields of a :class:`~costsim.pricing.TokenPricing`, built from the rate cards of
:mod:`costsim.pricing.rates`.  The semantics (keys understood, where costsim differs
from LiteLLM) are documented in :mod:`costsim.pricing.litellm`, the public module.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import fnmatch
import math
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._limits import MAX_PRICE, MAX_TOKENS_PER_CALL
from .._validation import ParameterError
from . import catalog
from .provider_defaults import BATCH_FALLBACK, with_provider_defaults
from .rates import RATE_FIELDS, LongContextTier, OffPeak, OffPeakWindow, RateCard

__all__ = ["CATALOG", "bundled", "token_pricing_fields"]

CATALOG = catalog.SHIPPED
"""The shipped price catalog (LiteLLM's format, with a ``"_meta"`` entry; gzip JSON)."""

_BASE_KEYS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_reasoning_token": "reasoning",
}
_KEY_OF = {field: key for key, field in _BASE_KEYS.items()}
_TIER_SUFFIXES = {"batches": "batch", "flex": "flex", "balanced": "balanced", "priority": "priority",
                  "ultrafast": "ultrafast", "decisions": "decisions"}
_TIER = "|".join(_TIER_SUFFIXES)
_PRICE_KEY = re.compile(
    r"^(?P<base>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost_above_1hr|cache_creation_input_token_cost"
    r"|output_cost_per_reasoning_token)"
    rf"(?:_(?P<tier1>{_TIER}))?"
    r"(?:_above_(?P<n>\d+(?:\.\d+)?)(?P<k>k?)_tokens)?"
    rf"(?:_(?P<tier2>{_TIER}))?$"
)
_UPLIFT_KEY = re.compile(r"^(?P<name>\w+)_uplift_multiplier$")
_REGIONAL_UPLIFT_KEY = re.compile(r"^regional_processing_uplift_multiplier_(?P<region>\w+)$")
_INFORMATIONAL = frozenset({
    "max_input_tokens", "max_output_tokens", "max_tokens", "mode", "source", "litellm_provider",
    "deprecation_date", "prompt_cache_min_tokens", "output_vector_size", "metadata", "comment",
    "tool_use_system_prompt_tokens", "display_name", "rpm", "tpm",
})
_INFORMATIONAL_PREFIXES = ("supports_", "supported_", "max_")
_INFORMATIONAL_PATTERN = re.compile(r"_dbu_cost_per_token$")  # Databricks DBUs: LiteLLM never bills them
_NOT_APPLIED = re.compile(
    # prices of inputs and outputs costsim's traffic does not have: recorded on the model, not billed
    r"audio|image|video|character|pixel|_12hr|^explicit_cache_read_input_token_cost"
    r"|^citation_cost_per_token$|^code_interpreter_cost_per_session$|^google_maps_grounding_cost_per_query$"
)
_LOOKS_LIKE_PRICE = re.compile(
    r"cost|price|pricing|uplift|multiplier|fee|charge|"
    r"per_(second|minute|hour|character|image|page|pixel|query|request|call|session|token)"
)
_NO_OUTPUT_MODES = frozenset({"embedding", "rerank", "moderation"})
_OFF_PEAK_RATE_KEYS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write",
    "output_cost_per_reasoning_token": "reasoning",
}
_WEEKDAYS = {
    "mon": 1, "monday": 1, "tue": 2, "tues": 2, "tuesday": 2, "wed": 3, "wednesday": 3,
    "thu": 4, "thur": 4, "thurs": 4, "thursday": 4, "fri": 5, "friday": 5,
    "sat": 6, "saturday": 6, "sun": 7, "sunday": 7,
}
_WINDOW = re.compile(r"^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$")
_STD_OUTPUT = "standard output"  # sentinel: reasoning billed at the standard (not off-peak) output rate


# ---- loading -------------------------------------------------------------------------------


def bundled() -> dict[str, Any]:
    """The catalog in use: the user catalog (``costsim catalog update``) if present, else
    the shipped one (see :mod:`costsim.pricing.catalog`)."""
    return catalog.active()


def _price_map(price_map: str | Path | Mapping | None) -> Mapping[str, Any]:
    if price_map is None:
        return bundled()
    if isinstance(price_map, Mapping):
        return price_map
    if isinstance(price_map, (str, Path)):
        return catalog.read(price_map)
    raise ValueError(f"price_map must be a path, a mapping of model entries or None; got {price_map!r}")


def _entry(model: str, prices: Mapping[str, Any]) -> Mapping[str, Any]:
    """``model``'s entry, an ``alias_of`` entry resolved to the entry it names."""
    if not isinstance(model, str) or not model:
        raise ValueError(f"model must be a model name (str); got {model!r}")
    names = model_names(prices)
    if model not in names:
        close = close_matches(model, names)
        hint = f"; close matches: {close}" if close else ""
        raise ValueError(f"unknown model {model!r}: not in the price map ({len(names)} models){hint}")
    seen = [model]
    entry = prices[model]
    while isinstance(entry, Mapping) and isinstance(entry.get("alias_of"), str):
        target = entry["alias_of"]
        if target in seen or target not in prices:
            why = "a cycle" if target in seen else "a model not in the price map"
            raise ValueError(f"LiteLLM entry {seen[-1]!r}: alias_of {target!r} names {why} "
                             f"({' -> '.join([*seen, target])})")
        seen.append(target)
        entry = prices[target]
    if not isinstance(entry, Mapping):
        raise ValueError(f"LiteLLM entry {seen[-1]!r} must be a JSON object; got {entry!r}")
    return entry


def model_names(prices: Mapping[str, Any]) -> list[str]:
    """The model names of a price map (not ``_meta`` nor LiteLLM's ``sample_spec``)."""
    return [n for n in prices if isinstance(n, str) and not n.startswith("_") and n != "sample_spec"]


def close_matches(model: str, names: Iterable[str]) -> list[str]:
    """Up to 5 names like ``model`` (difflib), then those with the same last path part.

    Examples
    --------
    >>> close_matches("gpt4o", ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "openai/gpt4o"])
    ['gpt-4o', 'gpt-4o-mini', 'openai/gpt4o']
    """
    names = list(names)
    close = difflib.get_close_matches(model, names, n=5, cutoff=0.6)
    tail = model.rsplit("/", 1)[-1]
    return close + [n for n in names if n.rsplit("/", 1)[-1] == tail and n not in close]


# ---- mapping -------------------------------------------------------------------------------


def _rate(model: str, key: str, value: Any) -> float:
    """A LiteLLM per-token price as USD per million tokens (decimal-exact shift)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"LiteLLM entry {model!r}: {key} must be a number; got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"LiteLLM entry {model!r}: {key} must be a finite number >= 0; got {value!r}")
    per_million = Decimal(repr(float(value))).scaleb(6)
    if per_million > MAX_PRICE:
        raise ValueError(f"LiteLLM entry {model!r}: {key} must be <= {MAX_PRICE / 1e6:g} USD per token "
                         f"({MAX_PRICE:,.17g} per million, MAX_PRICE); got {value!r}")
    return float(per_million)


def _threshold(model: str, key: str, number: str, k: str, inclusive: bool) -> int:
    value = Decimal(number) * (1000 if k else 1)
    if value != value.to_integral_value():
        raise ValueError(f"LiteLLM entry {model!r}: {key} has a threshold of {value} tokens, not an integer")
    threshold = int(value) - (1 if inclusive else 0)
    if threshold < 0:
        raise ValueError(f"LiteLLM entry {model!r}: {key} has a threshold below 1 token")
    return _at_most_tokens(model, key, threshold)


def _at_most_tokens(model: str, key: str, threshold: int) -> int:
    if threshold > MAX_TOKENS_PER_CALL:
        raise ValueError(f"LiteLLM entry {model!r}: {key} has a threshold of {threshold:,} tokens, above "
                         f"{MAX_TOKENS_PER_CALL:,} (MAX_TOKENS_PER_CALL)")
    return threshold


@dataclasses.dataclass
class _Parsed:
    """An entry's keys sorted into families."""

    rates: dict[tuple[str | None, int | None], dict[str, float]]  # (tier, threshold) -> field -> rate
    keys: dict[tuple[str | None, int | None, str], str]  # where each rate came from (for messages)
    tiered: Any = None
    off_peak: Any = None
    uplifts: dict[str, float] = dataclasses.field(default_factory=dict)
    search: Any = None
    fee_per_request: float = 0.0
    not_applied: list[str] = dataclasses.field(default_factory=list)


def _parse(model: str, entry: Mapping[str, Any], ignore: tuple[str, ...]) -> _Parsed:
    inclusive = entry.get("litellm_provider") == "xai"
    parsed = _Parsed(rates={}, keys={})
    unmapped: list[str] = []
    cache_hit = None
    for key, value in entry.items():
        if not isinstance(key, str):
            unmapped.append(repr(key))
            continue
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in ignore):
            continue
        match = _PRICE_KEY.match(key)
        if match:
            if match["tier1"] and match["tier2"]:
                unmapped.append(key)
                continue
            suffix = match["tier1"] or match["tier2"]
            tier = _TIER_SUFFIXES[suffix] if suffix else None
            threshold = None if match["n"] is None else _threshold(model, key, match["n"], match["k"], inclusive)
            field = _BASE_KEYS[match["base"]]
            slot = parsed.rates.setdefault((tier, threshold), {})
            rate = _rate(model, key, value)
            if field in slot and slot[field] != rate:
                other = parsed.keys[(tier, threshold, field)]
                raise ValueError(f"LiteLLM entry {model!r}: {key} ({value}) conflicts with {other}")
            slot[field] = rate
            parsed.keys[(tier, threshold, field)] = key
        elif key == "tiered_pricing":
            parsed.tiered = value
        elif key == "off_peak_pricing":
            parsed.off_peak = value
        elif key == "search_context_cost_per_query":
            parsed.search = value
        elif key == "input_cost_per_token_cache_hit":
            cache_hit = _rate(model, key, value)
        elif key == "input_cost_per_request":
            parsed.fee_per_request = _at_most_price(model, key, _usd(model, key, value))
        elif (m := _REGIONAL_UPLIFT_KEY.match(key)) or (m := _UPLIFT_KEY.match(key)):
            name = f"regional_processing_{m['region']}" if "region" in m.groupdict() else m["name"]
            parsed.uplifts[name] = _multiplier(model, key, value)
        elif key == "provider_specific_entry":
            if not isinstance(value, Mapping):
                unmapped.append(key)
                continue
            for name, multiplier in value.items():
                if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)):
                    unmapped.append(f"{key}[{name!r}]")
                else:
                    parsed.uplifts[str(name).lower()] = _multiplier(model, f"{key}[{name!r}]", multiplier)
        elif key in _INFORMATIONAL or key.startswith(_INFORMATIONAL_PREFIXES) or _INFORMATIONAL_PATTERN.search(key):
            continue
        elif _NOT_APPLIED.search(key):
            parsed.not_applied.append(key)
        elif _LOOKS_LIKE_PRICE.search(key):
            unmapped.append(key)
    if unmapped:
        raise ValueError(
            f"LiteLLM entry {model!r} has prices costsim cannot map: {sorted(unmapped)}; costsim prices "
            "text tokens (input, cached, cache-write, output, reasoning). If your traffic never incurs "
            "them, drop them with ignore=[...] (glob patterns, e.g. ignore='*audio*')"
        )
    if cache_hit is not None:  # DeepSeek's name for the cache-read rate
        base = parsed.rates.setdefault((None, None), {})
        if "cached_input" not in base:
            base["cached_input"] = cache_hit
            parsed.keys[(None, None, "cached_input")] = "input_cost_per_token_cache_hit"
        elif base["cached_input"] != cache_hit:
            raise ValueError(
                f"LiteLLM entry {model!r}: input_cost_per_token_cache_hit ({cache_hit} per 1M) conflicts "
                f"with cache_read_input_token_cost ({base['cached_input']} per 1M)"
            )
    return parsed


def _usd(model: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"LiteLLM entry {model!r}: {key} must be USD >= 0; got {value!r}")
    return float(value)


def _multiplier(model: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"LiteLLM entry {model!r}: {key} must be a finite number > 0; got {value!r}")
    return _at_most_price(model, key, float(value))


def _at_most_price(model: str, key: str, value: float) -> float:
    if value > MAX_PRICE:
        raise ValueError(f"LiteLLM entry {model!r}: {key} must be <= {MAX_PRICE:,.17g} (MAX_PRICE); got {value!r}")
    return value


def _no_output(model: str, entry: Mapping[str, Any], where: str) -> float:
    if entry.get("mode") in _NO_OUTPUT_MODES:
        return 0.0
    raise ValueError(
        f"LiteLLM entry {model!r} has no output_cost_per_token{where} (mode {entry.get('mode')!r}); "
        "give one (0 for free output)"
    )


def _threshold_bands(model: str, entry: Mapping[str, Any], parsed: _Parsed) -> dict[str | None, list[dict]]:
    """Per service tier (None = standard): ``[base band, long-context bands...]``.

    A band is ``{"threshold", field: rate or None}``; ``reasoning`` None follows the
    band's output rate.  Resolution follows LiteLLM's ``_get_token_base_cost``.
    """
    rates = parsed.rates
    thresholds = sorted({t for (_, t) in rates if t is not None})
    for t in thresholds:
        if "input" not in rates.get((None, t), {}):
            keys = sorted(k for (_, th, _), k in parsed.keys.items() if th == t)
            raise ValueError(
                f"LiteLLM entry {model!r} has {keys} but no standard input rate above that threshold "
                f"(input_cost_per_token_above_..._tokens), which is what switches the tier on"
            )
    standard = rates.get((None, None), {})
    if "input" not in standard:
        raise ValueError(
            f"LiteLLM entry {model!r} has no input_cost_per_token (nor tiered_pricing): it is not "
            "priced per token"
        )

    def look(field: str, tier: str | None, threshold: int | None) -> float | None:
        value = rates.get((tier, threshold), {}).get(field)
        if value is None and tier is not None:
            value = rates.get((None, threshold), {}).get(field)
        return value

    tiers = [None, *sorted({s for (s, _) in rates if s is not None}, key=list(_TIER_SUFFIXES.values()).index)]
    bands: dict[str | None, list[dict]] = {}
    for tier in tiers:
        output = look("output", tier, None)
        if output is None:
            output = _no_output(model, entry, "" if tier is None else f" for tier {tier!r}")
        base = {
            "threshold": None,
            "input": look("input", tier, None),
            "output": output,
            "cached_input": look("cached_input", tier, None),
            "cache_write": look("cache_write", tier, None),
            "cache_write_1h": look("cache_write_1h", tier, None),
        }
        own = rates.get((tier, None), {}) if tier is not None else {}
        if "reasoning" in own:
            base["reasoning"] = own["reasoning"]
        elif "output" in own:  # a tier with its own output rate bills reasoning at it
            base["reasoning"] = None
        else:
            base["reasoning"] = standard.get("reasoning")
        band_list = [base]
        for t in thresholds:
            band = {"threshold": t}
            for field in RATE_FIELDS:
                value = look(field, tier, t)
                if field == "reasoning" and tier is not None and "reasoning" not in own and "output" in own:
                    value = rates.get((tier, t), {}).get("reasoning")  # the tier's output rules
                band[field] = base[field] if value is None else value
            band_list.append(band)
        bands[tier] = band_list
    if "batch" in bands:
        bands["batch"] = _batch_bands(rates, bands[None])
    return bands


def _batch_bands(rates: dict, standard: list[dict]) -> list[dict]:
    """The batch tier's bands, as LiteLLM's ``batch_cost_calculator`` bills them.

    A listed ``_batches`` rate is used.  Input and output not listed are
    ``BATCH_FALLBACK`` (half) of the standard band's.  With no batch input rate listed
    every rate is half the standard band's; with one, cache reads not listed are the
    standard band's, cache writes not listed bill as batch input.  Reasoning follows
    the batch output rate unless listed.
    """
    half_all = "input" not in rates.get(("batch", None), {})
    out = []
    for band in standard:
        own = rates.get(("batch", band["threshold"]), {})
        batch = {"threshold": band["threshold"]}
        for field in RATE_FIELDS:
            if field in own:
                batch[field] = own[field]
            elif field == "reasoning" or band[field] is None:
                batch[field] = None
            elif field in ("input", "output") or half_all:
                batch[field] = BATCH_FALLBACK.factor * band[field]
            elif field == "cached_input":
                batch[field] = band[field]
            else:
                batch[field] = None
        out.append(batch)
    return out


def _tiered_bands(model: str, entry: Mapping[str, Any], parsed: _Parsed) -> list[dict]:
    """The standard tier's bands from ``tiered_pricing`` (LiteLLM's ``_get_tiered_base_costs``)."""
    table = parsed.tiered
    label = f"LiteLLM entry {model!r}: tiered_pricing"
    if not isinstance(table, (list, tuple)) or not table:
        raise ValueError(f"{label} must be a non-empty list of ranges; got {table!r}")
    extra = sorted(k for (tier, t, _), k in parsed.keys.items()
                   if tier is not None or t is not None or k not in ("output_cost_per_token",
                                                                       "input_cost_per_token_cache_hit",
                                                                       "output_cost_per_reasoning_token",
                                                                       "input_cost_per_token",
                                                                       "cache_read_input_token_cost",
                                                                       "cache_creation_input_token_cost"))
    if extra:
        raise ValueError(f"{label} cannot be combined with service-tier or threshold keys {extra}")
    top = parsed.rates.get((None, None), {})
    allowed = {"range", *_BASE_KEYS}
    spans = []
    for i, rng in enumerate(table):
        if not isinstance(rng, Mapping):
            raise ValueError(f"{label}[{i}] must be an object; got {rng!r}")
        unknown = sorted(set(rng) - allowed)
        if unknown:
            raise ValueError(f"{label}[{i}] has keys costsim cannot map: {unknown}")
        bounds = rng.get("range")
        if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b)
                           and b == int(b) for b in bounds)):
            raise ValueError(f"{label}[{i}].range must be [start, end] whole token counts; got {bounds!r}")
        start, end = int(bounds[0]), int(bounds[1])
        if not 0 <= start < end:
            raise ValueError(f"{label}[{i}].range must have 0 <= start < end; got {bounds!r}")
        _at_most_tokens(model, f"tiered_pricing[{i}].range", start)
        spans.append([start, end])
    starts = [a for a, _ in spans]
    if starts != sorted(starts):
        raise ValueError(f"{label} ranges must be sorted by start; got {spans}")
    if starts[0] != 0:
        raise ValueError(f"{label}[0].range must start at 0; got {spans[0]}")
    for i in range(1, len(spans)):
        if spans[i][0] != spans[i - 1][1]:
            kind = "overlaps" if spans[i][0] < spans[i - 1][1] else "leaves a gap after"
            raise ValueError(
                f"{label}[{i}].range {spans[i]} {kind} the previous range {spans[i - 1]}: each range must "
                "start where the previous one ends"
            )
    bands = []
    for i, rng in enumerate(table):
        start = spans[i][0]
        if "input_cost_per_token" not in rng:
            raise ValueError(f"{label}[{i}] has no input_cost_per_token")
        r = {field: _rate(model, f"tiered_pricing[{i}].{key}", rng[key])
             for key, field in _BASE_KEYS.items() if key in rng}
        if "output" in r:
            output = r["output"]
        elif "output" in top:
            output = top["output"]
        else:
            output = _no_output(model, entry, f" in tiered_pricing[{i}] or at the top level")
        if "reasoning" in r:
            reasoning = r["reasoning"]
        elif "output" in r:
            reasoning = _STD_OUTPUT
        else:
            reasoning = top.get("reasoning")
        bands.append({
            "threshold": None if i == 0 else start,
            "input": r["input"], "output": output, "cached_input": r.get("cached_input"),
            "cache_write": r.get("cache_write"), "cache_write_1h": r.get("cache_write_1h"),
            "reasoning": reasoning,
        })
    for field in ("input", "cached_input", "cache_write"):
        if field in top and top[field] != bands[0][field]:
            raise ValueError(
                f"{label} conflicts with the top-level {_KEY_OF[field]} ({top[field]} per 1M; the first "
                f"range has {bands[0][field]}): LiteLLM would ignore the top-level rate"
            )
    return bands


def _limit(model: str, entry: Mapping[str, Any], key: str) -> int | None:
    """A token limit of the entry: None when absent or 0 (some entries write 0 for
    unknown), else a whole number >= 1."""
    value = entry.get(key)
    if value is None or (value == 0 and not isinstance(value, bool)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"LiteLLM entry {model!r}: {key} must be a whole number of tokens >= 1; got {value!r}")
    return value


def _card(bands: list[dict], cls: Callable[..., Any] = RateCard, **extra: Any) -> Any:
    def rates(band: dict) -> dict:
        out = {field: band[field] for field in RATE_FIELDS}
        if out["reasoning"] == _STD_OUTPUT:
            out["reasoning"] = None
        return out

    tiers = tuple(LongContextTier(band["threshold"], **rates(band)) for band in bands[1:])
    return cls(**rates(bands[0]), long_context=tiers, **extra)


def _minute(text: str) -> str:
    hours, minutes = text.split(":")
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ValueError(text)
    return text


def _windows(label: str, hours: Any, weekdays: tuple[int, ...]) -> list[OffPeakWindow]:
    """``"HH:MM-HH:MM"`` strings as OffPeakWindows; a window past midnight is split in two
    on the same weekdays (LiteLLM tests the weekday and the hour separately)."""
    spans = [hours] if isinstance(hours, str) else hours
    if not isinstance(spans, (list, tuple)) or not spans:
        raise ValueError(f"{label}.hours_utc must be 'HH:MM-HH:MM' or a non-empty list of them; got {hours!r}")
    out = []
    for span in spans:
        match = _WINDOW.match(span) if isinstance(span, str) else None
        try:
            start, end = _minute(match[1]), _minute(match[2])
        except (TypeError, ValueError):
            raise ValueError(f"{label}.hours_utc: {span!r} is not an 'HH:MM-HH:MM' UTC window") from None
        if start == end:
            out.append(OffPeakWindow(weekdays, "00:00", "00:00"))  # start == end: the whole day
        elif end == "00:00" or start < end:
            out.append(OffPeakWindow(weekdays, start, end))
        else:  # wraps past midnight
            out += [OffPeakWindow(weekdays, start, "00:00"), OffPeakWindow(weekdays, "00:00", end)]
    return out


def _weekdays(label: str, days: Any) -> tuple[int, ...]:
    if days is None:
        return (1, 2, 3, 4, 5, 6, 7)
    out = []
    for day in days if isinstance(days, (list, tuple)) else [days]:
        if isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= 7:
            out.append(day)
        elif isinstance(day, str) and day.strip().lower() in _WEEKDAYS:
            out.append(_WEEKDAYS[day.strip().lower()])
        else:
            raise ValueError(f"{label}.weekdays must list days 1 (Monday) to 7 (Sunday) or names; got {days!r}")
    if not out:
        raise ValueError(f"{label}.weekdays must not be empty")
    return tuple(sorted(set(out)))


def _fixed_offset_minutes(label: str, zone: Any) -> int:
    """The UTC offset (minutes) of ``weekday_timezone``: the calendar LiteLLM reads a window's
    weekdays on (its hours stay UTC).  Only zones without daylight saving time are supported."""
    if zone is None or str(zone).strip().upper() in ("UTC", "ETC/UTC", "Z", ""):
        return 0
    try:
        tz = zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{label}.weekday_timezone {zone!r} is not a known time zone") from None
    offsets = {datetime.datetime(year, month, 1, tzinfo=tz).utcoffset() for year in range(2024, 2036)
               for month in (1, 7)}
    if len(offsets) != 1:
        raise ValueError(f"{label}.weekday_timezone {zone!r} changes its UTC offset (daylight saving time); "
                         "costsim supports fixed-offset zones only")
    minutes, rest = divmod(offsets.pop().total_seconds(), 60)
    if rest:
        raise ValueError(f"{label}.weekday_timezone {zone!r} has a UTC offset that is not whole minutes")
    return int(minutes)


def _on_utc_weekdays(window: OffPeakWindow, offset: int) -> list[OffPeakWindow]:
    """``window`` (weekdays on a calendar ``offset`` minutes from UTC, hours UTC) as windows
    whose weekdays are UTC ones: split where that calendar's date changes."""
    if offset == 0:
        return [window]
    change = (-offset) % (24 * 60)  # the UTC minute at which the local date turns
    days = set(window.weekdays)
    earlier = tuple(sorted((d % 7) + 1 for d in days))  # offset < 0, before the turn: local day d = UTC day d+1
    later = tuple(sorted(((d - 2) % 7) + 1 for d in days))  # offset > 0, after the turn: local day d = UTC day d-1
    before, after = (tuple(sorted(days)), later) if offset > 0 else (earlier, tuple(sorted(days)))
    start = int(window.start[:2]) * 60 + int(window.start[3:])
    end = (int(window.end[:2]) * 60 + int(window.end[3:])) or 24 * 60
    out = []
    if start < change:
        out.append(OffPeakWindow(before, window.start, _hhmm(min(end, change))))
    if end > change:
        out.append(OffPeakWindow(after, _hhmm(max(start, change)), window.end))
    return out


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def _off_peak(model: str, block: Any, bands: list[dict]) -> OffPeak:
    label = f"LiteLLM entry {model!r}: off_peak_pricing"
    if not isinstance(block, Mapping):
        raise ValueError(f"{label} must be an object; got {block!r}")
    unknown = sorted(set(block) - {"windows", "hours_utc", "weekday_timezone", *_OFF_PEAK_RATE_KEYS})
    if unknown:
        raise ValueError(f"{label} has keys costsim cannot map: {unknown}")
    offset = _fixed_offset_minutes(label, block.get("weekday_timezone"))
    windows: list[OffPeakWindow] = []
    if block.get("hours_utc") is not None:
        windows += _windows(label, block["hours_utc"], _weekdays(label, None))
    rules = block.get("windows")
    if rules is not None:
        if not isinstance(rules, (list, tuple)):
            raise ValueError(f"{label}.windows must be a list; got {rules!r}")
        for i, rule in enumerate(rules):
            where = f"{label}.windows[{i}]"
            if not isinstance(rule, Mapping) or set(rule) - {"hours_utc", "weekdays"} or "hours_utc" not in rule:
                raise ValueError(f"{where} must be {{'hours_utc': ..., 'weekdays': [...]}}; got {rule!r}")
            for window in _windows(where, rule["hours_utc"], _weekdays(where, rule.get("weekdays"))):
                windows += _on_utc_weekdays(window, offset)
    if not windows:
        raise ValueError(f"{label} has no windows (hours_utc or windows)")
    over = {field: _rate(model, f"off_peak_pricing.{key}", block[key])
            for key, field in _OFF_PEAK_RATE_KEYS.items() if key in block}
    off = []
    for band in bands:
        band = dict(band)
        if band["reasoning"] == _STD_OUTPUT:  # LiteLLM: a range's reasoning follows its standard output
            band["reasoning"] = band["output"]
        band.update(over)
        off.append(band)
    return OffPeak(tuple(windows), _card(off))


def token_pricing_fields(
    model: str,
    price_map: str | Path | Mapping | None = None,
    *,
    uplift: str | None = None,
    web_search: bool = False,
    search_context: str = "medium",
    ignore: str | Iterable[str] = (),
) -> dict[str, Any]:
    """The keyword arguments of the :class:`~costsim.pricing.TokenPricing` of ``model``'s
    entry in a LiteLLM price map (what ``TokenPricing.from_litellm`` builds).

    Parameters
    ----------
    model, price_map, uplift, web_search, search_context, ignore
        As for :func:`costsim.pricing.litellm.from_litellm`.

    Returns
    -------
    dict of str to object
        The rate fields (USD per million tokens), ``long_context``, ``service_tiers``,
        ``off_peak``, ``multiplier`` and ``fee_per_tool_call``.

    Raises
    ------
    ValueError
        As for :func:`costsim.pricing.litellm.from_litellm`.

    Examples
    --------
    >>> fields = token_pricing_fields("gpt-4o")
    >>> fields["input"], fields["output"], list(fields["service_tiers"])
    (2.5, 10.0, ['batch', 'priority'])
    """
    ignore = (ignore,) if isinstance(ignore, str) else tuple(ignore)
    entry = with_provider_defaults(_entry(model, _price_map(price_map)))
    parsed = _parse(model, entry, ignore)
    if parsed.tiered is not None:
        standard = _tiered_bands(model, entry, parsed)
        service = {}
    else:
        bands = _threshold_bands(model, entry, parsed)
        standard = bands.pop(None)
        service = {tier: _card(b) for tier, b in bands.items()}
    off_peak = None if parsed.off_peak is None else _off_peak(model, parsed.off_peak, standard)

    multiplier = 1.0
    if uplift is not None:
        if uplift not in parsed.uplifts:
            raise ValueError(
                f"LiteLLM entry {model!r} has no uplift {uplift!r}; it has {sorted(parsed.uplifts) or 'none'}"
            )
        multiplier = parsed.uplifts[uplift]

    fee = 0.0
    if web_search:
        if search_context not in ("low", "medium", "high"):
            raise ValueError(f"search_context must be 'low', 'medium' or 'high'; got {search_context!r}")
        search = parsed.search
        if search is None:
            raise ValueError(f"LiteLLM entry {model!r} has no search_context_cost_per_query (web_search=True)")
        if isinstance(search, Mapping):
            key = f"search_context_size_{search_context}"
            if key not in search:
                raise ValueError(f"LiteLLM entry {model!r}: search_context_cost_per_query has no {key!r}; "
                                 f"it has {sorted(search)}")
            search = search[key]
        if isinstance(search, bool) or not isinstance(search, (int, float)) or not math.isfinite(search) or search < 0:
            raise ValueError(f"LiteLLM entry {model!r}: search_context_cost_per_query must be USD >= 0; got {search!r}")
        fee = _at_most_price(model, "search_context_cost_per_query", float(search))

    try:
        return _card(standard, dict, service_tiers=service, off_peak=off_peak, multiplier=multiplier,
                     fee_per_request=parsed.fee_per_request, fee_per_tool_call=fee,
                     max_input_tokens=_limit(model, entry, "max_input_tokens"),
                     max_output_tokens=_limit(model, entry, "max_output_tokens"),
                     not_applied=tuple(sorted(parsed.not_applied)) or None)
    except ParameterError as err:
        raise ValueError(f"LiteLLM entry {model!r}: {err}") from None
