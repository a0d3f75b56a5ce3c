"""How ``costsim fit`` and ``costsim backtest`` read a request log: their shared options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["add_log_arguments", "log_options"]


def add_log_arguments(p: argparse.ArgumentParser, *, int_at_least: Callable[[int], Callable[[str], int]]) -> None:
    """Add the options that say how to read the log and what limits its fit keeps to ``p``."""
    p.add_argument("--column", action="append", default=[], metavar="FIELD=NAME",
                   help="the log's column for a field (timestamp, input_tokens, output_tokens, qclass, "
                   "cached_tokens, prefix_hashes, session), repeatable; default: common names such as "
                   "TIMESTAMP, ContextTokens")
    p.add_argument("--unit", choices=("s", "ms", "us", "ns"), default=None,
                   help="unit of numeric (epoch) timestamps; default: inferred from their magnitude, and said")
    p.add_argument("--preset", default=None, metavar="NAME",
                   help="the columns (and timestamp unit, block size) of a common export: azure-llm-2023, "
                   "litellm-spend-logs or mooncake (costsim.calibrate.logs.COLUMN_PRESETS)")
    p.add_argument("--block-tokens", type=int_at_least(1), default=None, metavar="N",
                   help="tokens per block of a prefix_hashes column (learns the prompt cache)")
    p.add_argument("--cache-ttl", default=None, metavar="DURATION",
                   help="the prompt cache's time to live, e.g. 5min (default: estimated where the log shows it)")
    p.add_argument("--max-input", type=int_at_least(1), default=None, metavar="N",
                   help="context window: no simulated prompt exceeds it (default: none)")
    p.add_argument("--max-output", type=int_at_least(1), default=None, metavar="N",
                   help="output limit (max_tokens): no simulated output exceeds it (default: none)")


def log_options(args: argparse.Namespace, columns: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keywords of :func:`~costsim.calibrate.read_log` and of
    :func:`~costsim.calibrate.fit_traffic` the options of :func:`add_log_arguments` give
    (``columns``: the parsed ``--column`` options)."""
    if args.preset is not None and columns:
        raise ValueError("--preset and --column exclude each other: a preset names every column")
    read = {"columns": args.preset or columns or None, "unit": args.unit, "block_tokens": args.block_tokens,
            "cache_ttl": args.cache_ttl}
    limits = {"max_input": args.max_input, "max_output": args.max_output}
    return read, {k: v for k, v in limits.items() if v is not None}
