"""costsim against LiteLLM's own billing path, on every chat-capable entry of a price map.

Used by ``test_litellm_conformance.py`` and runnable as a script that prints the
acceptance figures (needs ``pip install 'costsim[conformance]'``)::

    PYTHONPATH=src python tests/pricing/_litellm_conformance.py [--per-model 20] [--seed 0]

LiteLLM is called as an application calls it: ``litellm.cost_per_token`` with a
``Usage`` object (OpenAI style: ``prompt_tokens`` includes cache reads and writes,
``completion_tokens`` includes reasoning), the entry's provider, the service tier, and
``call_type="retrieve_batch"`` for batch; the billing time is pinned (off-peak windows).
Requests where a known LiteLLM quirk applies are excluded by :data:`QUIRKS`, an
explicit allow-list (each entry names the LiteLLM function where it happens), and
counted; everything else must agree to ``REL`` relative.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from costsim import TokenPricing
from costsim.pricing.catalog import resolved

REL = 1e-9
TIERS = ("standard", "flex", "priority", "batch", "balanced", "ultrafast")
CHAT_MODES = ("chat", "completion", "responses")
# billing moments (pinned in LiteLLM, ``when=`` in costsim): a weekday noon and a weekend night,
# so that off-peak windows are both open and closed
BILLED_AT = (datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc), datetime(2026, 11, 28, 3, 30, tzinfo=timezone.utc))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the map from the network


def litellm_map() -> dict[str, Any]:
    """The price map bundled with the installed LiteLLM (its backup copy, read as JSON)."""
    import litellm

    return json.loads((Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json")
                      .read_text(encoding="utf-8"))


def chat_models(prices: Mapping[str, Any]) -> list[str]:
    """Names (aliases included) whose entry is a chat, completion or responses model."""
    return [n for n in prices if n != "sample_spec" and not n.startswith("_")
            and resolved(prices, n).get("mode") in CHAT_MODES]


@dataclasses.dataclass(frozen=True)
class Request:
    prompt: int
    cached: int
    written: int
    ttl: str  # "5m" or "1h"
    output: int  # output tokens other than reasoning
    reasoning: int
    when: datetime


def requests(pricing: TokenPricing, rng: np.random.Generator, n: int) -> list[Request]:
    """``n`` random requests, plus each long-context threshold of every card -1/0/+1."""
    thresholds = sorted({t.threshold for card in (pricing, *pricing.service_tiers.values())
                         for t in card.long_context})
    top = max(pricing.max_input_tokens or 200_000, 2 * max(thresholds, default=0), 1_000)
    prompts = [int(p) for p in rng.integers(0, top, size=n)] + [t + d for t in thresholds for d in (-1, 0, 1)]
    out = []
    for p in prompts:
        cached = int(p * rng.random() * 0.6) if rng.random() < 0.7 else 0
        written = int((p - cached) * rng.random() * 0.5) if rng.random() < 0.6 else 0
        reasoning = int(rng.integers(0, 3_000)) if rng.random() < 0.5 else 0
        out.append(Request(p, cached, written, "1h" if rng.random() < 0.5 else "5m",
                           int(rng.integers(0, 5_000)), reasoning, BILLED_AT[int(rng.integers(0, 2))]))
    return out


def costsim_cost(pricing: TokenPricing, r: Request, tier: str) -> float:
    return float(pricing.price(r.prompt, r.output, cache_read_tokens=r.cached, cache_write_tokens=r.written,
                               cache_write_ttl=r.ttl, reasoning_tokens=r.reasoning, service_tier=tier,
                               when=np.datetime64(r.when.replace(tzinfo=None))))


def litellm_cost(name: str, entry: Mapping[str, Any], r: Request, tier: str) -> float:
    import litellm
    from litellm._internal_context import pinned_billing_time
    from litellm.types.utils import Usage

    ttl_key = "ephemeral_1h_input_tokens" if r.ttl == "1h" else "ephemeral_5m_input_tokens"
    usage = Usage(
        prompt_tokens=r.prompt, completion_tokens=r.output + r.reasoning,
        total_tokens=r.prompt + r.output + r.reasoning,
        prompt_tokens_details={"cached_tokens": r.cached, "cache_creation_tokens": r.written,
                               "cache_creation_token_details": {ttl_key: r.written}},
        completion_tokens_details={"reasoning_tokens": r.reasoning, "text_tokens": r.output},
    )
    litellm.suppress_debug_info = True
    with pinned_billing_time(r.when):
        prompt, completion = litellm.cost_per_token(
            model=name, custom_llm_provider=entry.get("litellm_provider"), usage_object=usage,
            service_tier=None if tier in ("standard", "batch") else tier,
            call_type="retrieve_batch" if tier == "batch" else "completion",
        )
    return prompt + completion


# ---- LiteLLM's known quirks: an explicit allow-list, not a tolerance -------------------------


@dataclasses.dataclass(frozen=True)
class Quirk:
    name: str
    where: str  # the LiteLLM function where it happens
    applies: Callable[[str, Mapping[str, Any], Request, str], bool]


def _above_any(entry: Mapping[str, Any], prompt: int, key_filter: Callable[[str], bool]) -> bool:
    for key in entry:
        m = re.search(r"_above_(\d+(?:\.\d+)?)(k?)_tokens", key)
        if m and key_filter(key) and prompt > float(m[1]) * (1000 if m[2] else 1):
            return True
    return False


def _batch_rate_missing_above(entry: Mapping[str, Any], r: Request, tier: str) -> bool:
    """A batch call above a long-context threshold where a rate has no ``_batches`` key."""
    return tier == "batch" and _above_any(
        entry, r.prompt,
        lambda k: not k.endswith(("_batches", "_flex", "_priority")) and f"{k}_batches" not in entry)


def _batch_fallback(entry: Mapping[str, Any], tier: str) -> bool:
    return tier == "batch" and entry.get("input_cost_per_token_batches") is None


@functools.cache
def _priced_as(name: str, provider: str | None) -> str:
    import litellm

    try:
        return litellm.get_model_info(model=name, custom_llm_provider=provider)["key"]
    except Exception:  # LiteLLM cannot find it: it bills what its calculator defaults to
        return ""


def _sibling(name: str, entry: Mapping[str, Any]) -> bool:
    """LiteLLM's lookup of ``name`` finds another entry with other prices."""
    import litellm

    provider = entry.get("litellm_provider")
    key = _priced_as(name, provider)
    if provider == "perplexity":  # its calculator looks the name up without the provider prefix
        key = _priced_as(name.split("/", 1)[1] if name.startswith("perplexity/") else name, provider)
    if key == name:
        return False
    other = litellm.model_cost.get(key, {})
    return {k: v for k, v in other.items() if "cost" in k} != {k: v for k, v in entry.items() if "cost" in k}


QUIRKS: tuple[Quirk, ...] = (
    # The name is looked up as provider/name or without its prefix and lands on a sibling
    # entry (gemini-exp-1206 -> gemini/gemini-exp-1206, perplexity/perplexity/sonar ->
    # perplexity/sonar) whose prices differ; costsim prices the entry asked for.
    Quirk("name lookup prices a sibling entry",
          "litellm/cost_calculator.py: cost_per_token (model_with_provider / model_without_prefix lookup)",
          lambda name, e, r, tier: _sibling(name, e)),
    # LiteLLM's Fireworks branch calls fireworks_ai_cost_per_token(model, usage) without the
    # service tier, so flex/priority calls on fireworks_ai entries bill at standard rates.
    Quirk("fireworks drops service_tier", "litellm/cost_calculator.py: cost_per_token (fireworks_ai branch)",
          lambda name, e, r, tier: e.get("litellm_provider") == "fireworks_ai" and tier not in ("standard", "batch")),
    # LiteLLM's Perplexity calculator reads only input, output and cache-read rates: no
    # long-context keys, no cache-write rate (writes bill as input), no service tiers,
    # no input_cost_per_request.
    Quirk("perplexity reads base rates only", "litellm/llms/perplexity/cost_calculator.py: cost_per_token",
          lambda name, e, r, tier: e.get("litellm_provider") == "perplexity" and (
              tier != "standard" or r.written > 0 or "input_cost_per_request" in e
              or _above_any(e, r.prompt, lambda k: True))),
    # Batch: LiteLLM takes a long-context batch rate only from an ..._above_N_tokens_batches
    # key; without one it bills the flat _batches rate (or half the flat standard rate) above
    # the threshold. costsim bills half the standard rate of that long-context band
    # (the providers' published batch rule).
    Quirk("batch ignores long-context bands without _batches keys",
          "litellm/litellm_core_utils/llm_cost_calc/utils.py: get_batch_cost_rates (_batch_rate_for_prefix)",
          lambda name, e, r, tier: _batch_rate_missing_above(e, r, tier)),
    # With no input_cost_per_token_batches, LiteLLM halves the standard rates but bills
    # cache reads at 0 when the entry has no cache-read rate (costsim: half the input rate,
    # as for every missing cache rate), and all cache writes at half the 5-minute rate
    # (costsim: half the 1-hour rate for 1-hour writes).
    Quirk("batch fallback: no cache-read rate bills 0, 1-hour writes at the 5-minute rate",
          "litellm/cost_calculator.py: batch_cost_calculator (the input_cost_per_token branch)",
          lambda name, e, r, tier: _batch_fallback(e, tier) and (
              (r.cached > 0 and e.get("cache_read_input_token_cost") is None)
              or (r.written > 0 and r.ttl == "1h" and "cache_creation_input_token_cost_above_1hr" in e))),
)


def quirk_of(name: str, entry: Mapping[str, Any], r: Request, tier: str) -> str | None:
    return next((q.name for q in QUIRKS if q.applies(name, entry, r, tier)), None)


# ---- the run ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    entries: int = 0
    imported: int = 0
    refused: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    compared: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    agreed: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    quirks: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    quirks_differing: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    disagreements: list = dataclasses.field(default_factory=list)


def refusal_reason(message: str) -> str:
    if "not priced per token" in message:
        return "no per-token price"
    if "_per_second" in message:
        return "per-second pricing"
    return re.sub(r"'[^']*'", "'...'", message)[:120]


def run(prices: Mapping[str, Any], *, per_model: int = 20, seed: int = 0,
        names: list[str] | None = None) -> Report:
    report = Report()
    rng = np.random.default_rng(seed)
    for name in chat_models(prices) if names is None else names:
        report.entries += 1
        entry = resolved(prices, name)
        try:
            pricing = TokenPricing.from_litellm(name, prices)
        except ValueError as err:
            report.refused[refusal_reason(str(err))] += 1
            continue
        report.imported += 1
        for r in requests(pricing, rng, per_model):
            for tier in TIERS:
                if tier not in pricing.tiers:
                    continue
                want = litellm_cost(name, entry, r, tier)
                got = costsim_cost(pricing, r, tier)
                agree = abs(got - want) <= REL * abs(want)
                quirk = quirk_of(name, entry, r, tier)
                if quirk is not None:  # excluded, counted (and whether LiteLLM's number really differs)
                    report.quirks[(tier, quirk)] += 1
                    report.quirks_differing[(tier, quirk)] += not agree
                    continue
                report.compared[tier] += 1
                if agree:
                    report.agreed[tier] += 1
                else:
                    report.disagreements.append((name, tier, r, got, want))
    return report


CATALOG_DATE = "2026-11-27"  # the date the 1.110.2 map's prices are as of (as the 10-model catalog recorded)


def shipped_catalog(prices: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog costsim ships, built from LiteLLM's bundled map."""
    from importlib.metadata import version

    from costsim.pricing.catalog import build

    v = version("litellm")
    return build(prices, source=f"LiteLLM model_prices_and_context_window.json, litellm {v} "
                                f"(https://github.com/BerriAI/litellm, MIT license)",
                 litellm_version=v, date=CATALOG_DATE)


def write_catalog(prices: Mapping[str, Any], path: str) -> None:
    import gzip

    text = json.dumps(shipped_catalog(prices), indent=None, separators=(",", ":"), sort_keys=False)
    Path(path).write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def main() -> None:
    import argparse

    import litellm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-model", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=20, help="disagreements to print")
    parser.add_argument("--build-catalog", metavar="PATH",
                        help="write costsim's catalog of this LiteLLM's map to PATH (.json.gz) and stop")
    args = parser.parse_args()
    prices = litellm_map()
    if args.build_catalog:
        write_catalog(prices, args.build_catalog)
        return
    report = run(prices, per_model=args.per_model, seed=args.seed)
    from importlib.metadata import version

    print(f"LiteLLM {version('litellm')} ({litellm.__name__}); {report.entries} chat/completion/responses entries")
    print(f"imported {report.imported}, refused {report.entries - report.imported}:")
    for why, n in report.refused.most_common():
        print(f"  {n:5d}  {why}")
    for tier in TIERS:
        n, ok = report.compared[tier], report.agreed[tier]
        skipped = sum(c for (t, _), c in report.quirks.items() if t == tier)
        rate = f"{100 * ok / n:.3f}%" if n else "-"
        print(f"{tier:9s} compared {n:6d}  agree {ok:6d} ({rate})  quirks excluded {skipped}")
    for (tier, quirk), n in sorted(report.quirks.items()):
        print(f"  quirk {tier:9s} {n:5d} excluded, {report.quirks_differing[(tier, quirk)]:5d} differ: {quirk}")
    by_model = collections.Counter(name for name, *_ in report.disagreements)
    print(f"disagreements: {len(report.disagreements)} on {len(by_model)} models")
    for name, tier, r, got, want in report.disagreements[:args.show]:
        print(f"  {name} {tier} {r} costsim {got!r} litellm {want!r}")


if __name__ == "__main__":
    main()
