"""kerbauth: Kerberos/SPNEGO for requests with requests-kerberos' names, on authwire.

>>> import requests
>>> from kerbauth import HTTPKerberosAuth, OPTIONAL
>>> auth = HTTPKerberosAuth(mutual_authentication=OPTIONAL)
"""

from __future__ import annotations

from kerbauth.errors import KerberosExchangeError, MutualAuthenticationError
from kerbauth.kerberos_ import DISABLED, OPTIONAL, REQUIRED, HTTPKerberosAuth

__all__ = [
    "DISABLED",
    "OPTIONAL",
    "REQUIRED",
    "HTTPKerberosAuth",
    "KerberosExchangeError",
    "MutualAuthenticationError",
]
