"""``python -m costsim``: the same as the ``costsim`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in tests
    sys.exit(main())
