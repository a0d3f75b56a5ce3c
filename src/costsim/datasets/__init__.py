"""Example data shipped with costsim, for the notebooks, the docs and your first fits.

Two real request logs travel inside the package (about 250 kB, gzip-compressed):
the Azure LLM inference traces of 2023 (the "Azure Public Dataset",
CC-BY-4.0; the licence and attribution are in ``costsim/datasets/data/LICENSE.md``).

======  =======  =======================================================
name     rows    what
======  =======  =======================================================
code     8,819   a coding assistant, 57 minutes: strongly on/off arrivals
conv    19,366   a conversation service, 58 minutes: near-Poisson arrivals
======  =======  =======================================================

Each has the columns ``TIMESTAMP`` (datetime64, 100 ns resolution),
``ContextTokens`` (prompt tokens) and ``GeneratedTokens`` (output tokens), which
:func:`costsim.calibrate.read_log` and :func:`costsim.fit_traffic` read as they are.

Examples
--------
>>> from costsim import datasets
>>> datasets.AZURE_TRACES
('code', 'conv')
>>> df = datasets.load_azure_trace("conv")
>>> df.shape, list(df.columns)
((19366, 3), ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'])
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from .._validation import ParameterError

__all__ = ["AZURE_TRACES", "CITATION", "azure_trace_path", "load_azure_trace"]

#: The names :func:`load_azure_trace` accepts.
AZURE_TRACES = ("code", "conv")

#: How to credit the Azure traces (their licence, CC-BY-4.0, asks for attribution).
CITATION = (
    "Azure LLM inference traces 2023, Azure Public Dataset (Microsoft Azure), "
    "https://github.com/Azure/AzurePublicDataset, CC-BY-4.0; released with Patel et al., "
    "\"Splitwise: Efficient Generative LLM Inference Using Phase Splitting\", ISCA 2024."
)

_DTYPES = {"ContextTokens": "int64", "GeneratedTokens": "int64"}


def azure_trace_path(name: str) -> Path:
    """The packaged file of an Azure trace (a gzip-compressed CSV, as published).

    Useful where a path is wanted, e.g. ``costsim fit`` on the command line
    (``costsim fit "$(python -c 'from costsim import datasets; print(datasets.azure_trace_path("conv"))')"``).

    Parameters
    ----------
    name : {"code", "conv"}

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> azure_trace_path("code").name
    'AzureLLMInferenceTrace_code.csv.gz'
    """
    if name not in AZURE_TRACES:
        raise ParameterError("name", f"must be one of {', '.join(map(repr, AZURE_TRACES))}", name,
                             "load_azure_trace")
    path = resources.files(__name__) / "data" / f"AzureLLMInferenceTrace_{name}.csv.gz"
    return Path(str(path))


def load_azure_trace(name: str) -> pd.DataFrame:
    """One of the Azure LLM inference traces of 2023, as a DataFrame (one row per request).

    The rows are exactly those of the published CSV, in its order.  The data is
    CC-BY-4.0: credit it as :data:`CITATION` says when you publish what you made with it.

    Parameters
    ----------
    name : {"code", "conv"}
        ``"code"``: a coding assistant (8,819 requests in 57 minutes, bursts with
        silent minutes between); ``"conv"``: a conversation service (19,366
        requests in 58 minutes, near-Poisson).

    Returns
    -------
    pandas.DataFrame
        Columns ``TIMESTAMP`` (datetime64[ns]), ``ContextTokens`` and
        ``GeneratedTokens`` (int64).

    Raises
    ------
    ParameterError
        For a name other than ``"code"`` or ``"conv"``.

    Examples
    --------
    >>> import costsim as cs
    >>> df = cs.datasets.load_azure_trace("code")
    >>> df.dtypes.astype(str).to_dict()
    {'TIMESTAMP': 'datetime64[ns]', 'ContextTokens': 'int64', 'GeneratedTokens': 'int64'}
    >>> str(df["TIMESTAMP"].iloc[0]), int(df["ContextTokens"].iloc[0])
    ('2023-11-16 18:17:03.979960', 4808)
    >>> cs.calibrate.read_log(df).class_names
    ('all',)
    >>> cs.datasets.load_azure_trace("chat")
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: load_azure_trace: name must be one of 'code', 'conv'; got 'chat'
    """
    with azure_trace_path(name).open("rb") as file:
        return pd.read_csv(file, compression="gzip", parse_dates=["TIMESTAMP"], dtype=_DTYPES)
