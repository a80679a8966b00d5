"""authwire's logger.

Strictly private. Everything authwire logs goes through the ``authwire`` logger and is
built from values that hold no secret (token fingerprints, redacted URLs, reasons). The
refresh events the manager logs are ``authwire._event.RefreshEvent``.
"""

from __future__ import annotations

import logging
from typing import Final

__all__ = ["logger"]

logger: Final = logging.getLogger("authwire")
