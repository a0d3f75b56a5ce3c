"""``costsim catalog``: list, search, show and update the offline price catalog.

The catalog (:mod:`costsim.pricing.catalog`) is LiteLLM's price map, dated; ``update``
writes a user catalog from a newer LiteLLM ``model_prices_and_context_window.json``
(atomically, never over the shipped package data), which then takes the shipped one's
place.  Registered on the ``costsim`` parser by :func:`add_parser`.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .files import write_atomic
from .pricing import catalog as C
from .pricing.litellm import from_litellm
from .pricing.litellm_map import close_matches, model_names
from .pricing.rates import effective_rates

__all__ = ["add_parser"]

_COLUMNS = f"{'model':<58}{'context':>10}{'max out':>9}{'input':>10}{'output':>10}{'cache rd':>10}  tiers"


def add_parser(sub: Any) -> None:
    """Add ``catalog list|search|show|update`` to the ``costsim`` subcommands ``sub``."""
    cat = sub.add_parser(
        "catalog", help="list, search or show the models of the offline price catalog; update it",
        description="The offline price catalog: the chat, completion, responses and embedding entries of "
        "LiteLLM's price map, dated. Rates are USD per million tokens.",
        epilog="Examples: costsim catalog search claude; costsim catalog show gpt-4o; "
        "costsim catalog update model_prices_and_context_window.json",
    )
    actions = cat.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every model with its standard rates")
    listing.add_argument("--provider", default=None, metavar="NAME", help="only this litellm_provider")
    listing.set_defaults(func=_list)
    search = actions.add_parser("search", help="models whose name contains TEXT, with their rates")
    search.add_argument("text", metavar="TEXT", help="part of a model name (case-insensitive)")
    search.set_defaults(func=_search)
    show = actions.add_parser("show", help="every rate and tier of one model, its limits, what is not applied")
    show.add_argument("model", metavar="NAME")
    show.set_defaults(func=_show)
    update = actions.add_parser(
        "update", help="make a user catalog from a newer LiteLLM price map",
        description="Write the chat-capable entries of FILE (LiteLLM's model_prices_and_context_window.json, "
        "plain or .gz) as the user catalog, which costsim then uses instead of the shipped one. "
        "Delete the file to go back.")
    update.add_argument("file", metavar="FILE")
    update.add_argument("--to", default=None, metavar="PATH",
                        help=f"where to write it (default: $COSTSIM_CATALOG or {C.user_path()})")
    update.add_argument("--litellm-version", default=None, metavar="V", help="the LiteLLM release it came with")
    update.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="the date its prices are as of "
                        "(default: today)")
    update.set_defaults(func=_update)


def _meta_line(data: Mapping[str, Any]) -> str:
    meta = data.get("_meta", {})
    version = f"LiteLLM {meta['litellm_version']}, " if meta.get("litellm_version") else ""
    return f"costsim price catalog ({version}prices as of {meta.get('date', '?')}; {C.active_path()})"


def _limit(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _row(name: str, data: Mapping[str, Any]) -> str:
    try:
        p = from_litellm(name, data)
    except ValueError as err:
        reason = "not priced per token" if "not priced per token" in str(err) else "not importable"
        return f"{name:<58}  ({reason})"
    rates = effective_rates(p)
    return (f"{name:<58}{_limit(p.max_input_tokens):>10}{_limit(p.max_output_tokens):>9}"
            f"{rates['input']:>10.4g}{rates['output']:>10.4g}{rates['cached_input']:>10.4g}  {','.join(p.tiers[1:])}")


def _table(names: Iterable[str], data: Mapping[str, Any]) -> int:
    names = list(names)
    print(_meta_line(data))
    print(_COLUMNS)
    for name in names:
        print(_row(name, data))
    print(f"{len(names)} models (USD per million tokens; tiers other than standard)")
    return 0


def _list(args: argparse.Namespace) -> int:
    data = C.active()
    names = model_names(data)
    if args.provider is not None:
        names = [n for n in names if C.resolved(data, n).get("litellm_provider") == args.provider]
        if not names:
            providers = sorted({str(C.resolved(data, n).get("litellm_provider")) for n in model_names(data)})
            raise ValueError(f"no model of provider {args.provider!r}; close matches: "
                             f"{close_matches(args.provider, providers)}")
    return _table(sorted(names), data)


def _search(args: argparse.Namespace) -> int:
    data = C.active()
    text = args.text.lower()
    names = sorted(n for n in model_names(data) if text in n.lower())
    if not names:
        close = close_matches(args.text, model_names(data))
        raise ValueError(f"no model name contains {args.text!r}" + (f"; close matches: {close}" if close else ""))
    return _table(names, data)


def _card_lines(label: str, card: Any) -> list[str]:
    lines = [f"  {label}"]
    for band in (card, *card.long_context):
        rates = effective_rates(band)
        where = "" if band is card else f"  prompt > {band.threshold:,}"
        lines.append(f"    {where or 'base':<22}" + "  ".join(f"{k} {v:.6g}" for k, v in rates.items()))
    return lines


def _show(args: argparse.Namespace) -> int:
    data = C.active()
    pricing = from_litellm(args.model, data)  # unknown names: close matches in the error
    entry = C.resolved(data, args.model)
    print(f"{args.model}  ({_meta_line(data)})")
    if "alias_of" in data[args.model]:
        print(f"  alias of {data[args.model]['alias_of']}")
    for key in ("litellm_provider", "mode", "deprecation_date", "source"):
        if key in entry:
            print(f"  {key}: {entry[key]}")
    print(f"  context window (max input tokens): {_limit(pricing.max_input_tokens)}")
    print(f"  max output tokens: {_limit(pricing.max_output_tokens)}")
    print("rates, USD per million tokens (unset rates shown at their fallbacks):")
    lines = _card_lines("standard", pricing)
    for name, card in pricing.service_tiers.items():
        lines += _card_lines(name, card)
    if pricing.off_peak is not None:
        windows = ", ".join(f"days {','.join(map(str, w.weekdays))} {w.start}-{w.end} UTC"
                            for w in pricing.off_peak.windows)
        lines += _card_lines(f"off-peak ({windows})", pricing.off_peak.rates)
    print("\n".join(lines))
    if pricing.fee_per_request:
        print(f"  fee per request: {pricing.fee_per_request:g} USD")
    uplifts = sorted(k for k in entry if k.endswith("_uplift_multiplier") or k.startswith("regional_processing"))
    if uplifts or "provider_specific_entry" in entry:
        print(f"  uplifts (not applied unless chosen with --uplift): {uplifts + list(entry.get('provider_specific_entry', {}))}")
    if "search_context_cost_per_query" in entry:
        print(f"  web search (per query, with web_search=True): {entry['search_context_cost_per_query']}")
    print(f"not applied (costsim bills text tokens): {', '.join(pricing.not_applied) if pricing.not_applied else 'none'}")
    return 0


def _update(args: argparse.Namespace) -> int:
    source = Path(args.file)
    prices = C.read(source, "FILE")
    built = C.build(prices, source=f"{source.name} (costsim catalog update)",
                    litellm_version=args.litellm_version, date=args.date)
    priced = sum(1 for name in model_names(built) if _imports(name, built))
    target = Path(args.to).expanduser() if args.to is not None else C.user_path()
    if target.resolve() == C.SHIPPED.resolve():
        raise ValueError(f"{target} is costsim's shipped catalog: the package data is never overwritten; "
                         "write the user catalog elsewhere (--to or $COSTSIM_CATALOG)")
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(built, separators=(",", ":")).encode("utf-8")
    if target.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    write_atomic(target, lambda tmp: Path(tmp).write_bytes(payload))
    n = built["_meta"]["models"]
    print(f"wrote {n:,} models ({priced:,} priced per token) to {target}, prices as of {built['_meta']['date']}")
    if target == C.user_path():
        print("costsim now uses it instead of the shipped catalog (delete it to go back)")
    else:
        print(f"use it with COSTSIM_CATALOG={target} or --price-map {target}")
    return 0


def _imports(name: str, data: Mapping[str, Any]) -> bool:
    try:
        from_litellm(name, data)
    except ValueError:
        return False
    return True
