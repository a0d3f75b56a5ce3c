"""The offline price catalog: LiteLLM's chat-capable entries, dated, shipped with costsim.

The shipped catalog (:data:`SHIPPED`, gzip-compressed JSON) holds every chat,
completion, responses and embedding entry of LiteLLM's
``model_prices_and_context_window.json`` (aliases included) in LiteLLM's own key format, with a ``"_meta"`` entry recording
the LiteLLM version, the date and the licence (MIT; see ``CATALOG_LICENSE`` beside
it).  A user catalog (:func:`user_path`), written by ``costsim catalog update FILE``
from a newer LiteLLM map, takes its place when present; the shipped file is never
modified.  Reading a catalog only parses JSON: it never runs code.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["CATALOG_MODES", "SHIPPED", "active", "active_path", "build", "read", "resolved", "user_path"]

SHIPPED = Path(__file__).with_name("catalog.json.gz")
"""The catalog shipped with costsim (package data, read-only)."""

CATALOG_MODES = ("chat", "completion", "responses", "embedding")
"""The LiteLLM ``mode`` values a catalog keeps: models priced per text token."""

_ENV = "COSTSIM_CATALOG"


def user_path() -> Path:
    """Where ``costsim catalog update`` writes the user catalog.

    ``$COSTSIM_CATALOG`` if set, else ``$XDG_DATA_HOME/costsim/catalog.json.gz``
    (``~/.local/share`` when ``XDG_DATA_HOME`` is unset).
    """
    if os.environ.get(_ENV):
        return Path(os.environ[_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "costsim" / "catalog.json.gz"


def active_path() -> Path:
    """The catalog in use: the user catalog if it exists, else :data:`SHIPPED`."""
    user = user_path()
    return user if user.is_file() else SHIPPED


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    return read(path)


def active() -> dict[str, Any]:
    """The catalog in use (see :func:`active_path`), read once per file version.

    Examples
    --------
    >>> data = active()
    >>> "gpt-4o" in data, "date" in data["_meta"]
    (True, True)
    """
    path = active_path()
    return _read_cached(str(path), path.stat().st_mtime_ns)


def read(path: str | os.PathLike, what: str = "price_map") -> dict[str, Any]:
    """A price map or catalog from a JSON file, gzip-compressed or not (JSON only: no code runs);
    ``what`` names the file in errors.

    Raises
    ------
    ValueError
        The file cannot be read, is not JSON, or does not hold a JSON object.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        data = json.loads(raw.decode("utf-8"))
    except OSError as err:  # no such file, a folder, no permission, a broken gzip stream
        raise ValueError(f"{what} {str(path)!r} cannot be read: {err.strerror or err}") from None
    except (UnicodeDecodeError, EOFError):
        raise ValueError(f"{what} {str(path)!r} is not a text (UTF-8) JSON file") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} {str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} {str(path)!r} must hold a JSON object of model entries")
    return dict(data)


def resolved(prices: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``name``'s entry, ``alias_of`` followed; ``{}`` for a name, alias or cycle that leads nowhere.

    Examples
    --------
    >>> resolved({"a": {"alias_of": "b"}, "b": {"mode": "chat"}}, "a")
    {'mode': 'chat'}
    """
    entry, seen = prices.get(name), {name}
    while isinstance(entry, Mapping) and isinstance(entry.get("alias_of"), str) and entry["alias_of"] not in seen:
        seen.add(entry["alias_of"])
        entry = prices.get(entry["alias_of"])
    return entry if isinstance(entry, Mapping) else {}


def build(prices: Mapping[str, Any], *, source: str, litellm_version: str | None = None,
          date: str | None = None) -> dict[str, Any]:
    """A catalog of ``prices``' entries of :data:`CATALOG_MODES`, with its ``"_meta"``.

    Parameters
    ----------
    prices : mapping
        A LiteLLM ``model_prices_and_context_window.json``, loaded.
    source : str
        Where it came from (recorded).
    litellm_version : str, optional
        The LiteLLM release it came with, if known.
    date : str, optional
        ``YYYY-MM-DD`` the prices are as of; default today (UTC).

    Raises
    ------
    ValueError
        ``prices`` has no entry of CATALOG_MODES.

    Examples
    --------
    >>> cat = build({"m": {"mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
    ...              "e": {"mode": "embedding", "input_cost_per_token": 1e-08},
    ...              "tts": {"mode": "audio_speech", "input_cost_per_character": 1.5e-05},
    ...              "m-latest": {"alias_of": "m"}}, source="test", date="2026-01-01")
    >>> sorted(cat), cat["_meta"]["models"]
    (['_meta', 'e', 'm', 'm-latest'], 3)
    """
    names = [n for n in prices if isinstance(n, str) and not n.startswith("_") and n != "sample_spec"
             and resolved(prices, n).get("mode") in CATALOG_MODES]
    if not names:
        raise ValueError(f"{source}: no chat, completion, responses or embedding entries "
                         "(is it a LiteLLM price map?)")
    day = date or dt.datetime.now(dt.UTC).date().isoformat()
    meta = {
        "date": day,
        "litellm_version": litellm_version,
        "sources": [source],
        "license": "MIT (LiteLLM, https://github.com/BerriAI/litellm); see CATALOG_LICENSE",
        "models": len(names),
        "note": ("USD per token in LiteLLM's key format (costsim converts to USD per million tokens): the "
                 f"chat, completion, responses and embedding entries of LiteLLM's price map, as of {day}. "
                 "Check the "
                 "vendors' pages (each entry's 'source') before relying on them."),
    }
    return {"_meta": meta, **{n: prices[n] for n in names}}
