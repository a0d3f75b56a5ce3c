"""The installed costsim's version (recorded in every result)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("costsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
