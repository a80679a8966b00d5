"""``kerbauth.errors``: the errors callers catch.

``MutualAuthenticationError`` is authwire's own: authwire raises it from inside requests'
response hooks, so the class a caller catches must be the one raised.
"""

from __future__ import annotations

from authwire import MutualAuthenticationError

__all__ = ["KerberosExchangeError", "MutualAuthenticationError"]


class KerberosExchangeError(Exception):
    """Kept for callers that import it; authwire returns the 401 instead of raising."""
