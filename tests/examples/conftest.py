"""The example SDKs' suites: each ``examples/sdks/<name>/src`` is importable as its package.

The examples are installable packages (each has a ``pyproject.toml``); the suites import
them from the source tree so ``make test`` needs no extra install step.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SDKS = Path(__file__).resolve().parents[2] / "examples" / "sdks"

for _src in sorted(_SDKS.glob("*/src")):
    if str(_src) not in sys.path:
        sys.path.insert(0, str(_src))
