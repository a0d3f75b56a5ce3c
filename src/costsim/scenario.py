"""Scenario <-> plain data (JSON-ready dicts), so a result file says how to reproduce it.

Every costsim object becomes ``{"type": ClassName, field: value, ...}``; tuples
become lists.  :func:`from_dict` rebuilds (and so re-validates) the objects.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ._model import Model

__all__ = ["to_dict", "from_dict", "scenario_json"]


def _registry() -> dict[str, type]:
    from . import pricing, traffic

    classes: dict[str, type] = {}
    for module in (traffic, pricing):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, Model):
                classes[name] = obj
    return classes


def to_dict(value: Any) -> Any:
    """Plain-data form of a costsim object (or of containers of them).

    Examples
    --------
    >>> from costsim import LogNormal
    >>> to_dict(LogNormal(mu=6.0, sigma=1.0))
    {'type': 'LogNormal', 'mu': 6.0, 'sigma': 1.0}
    """
    if isinstance(value, Model):
        out = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = to_dict(getattr(value, f.name))
        return out
    if isinstance(value, (list, tuple)):
        return [to_dict(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_dict(v) for k, v in value.items()}
    return value


def from_dict(data: Any) -> Any:
    """Rebuild costsim objects from :func:`to_dict` output.

    Examples
    --------
    >>> from costsim import LogNormal
    >>> from_dict(to_dict(LogNormal(mu=6.0, sigma=1.0))) == LogNormal(mu=6.0, sigma=1.0)
    True
    """
    if isinstance(data, dict) and "type" in data:
        registry = _registry()
        kind = data["type"]
        if kind not in registry:
            raise ValueError(f"type must be one of {sorted(registry)}; got {kind!r}")
        kwargs = {k: from_dict(v) for k, v in data.items() if k != "type"}
        return registry[kind](**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
    if isinstance(data, dict):
        return {k: from_dict(v) for k, v in data.items()}
    if isinstance(data, list):
        return [from_dict(v) for v in data]
    return data


def scenario_json(traffic: Any, options: Any, **settings: Any) -> str:
    """JSON text of a whole scenario: traffic, options and run settings."""
    # no sort_keys: the order of the options (and so of the result's option dim) is part of the scenario
    return json.dumps({"traffic": to_dict(traffic), "options": to_dict(options), **settings})
