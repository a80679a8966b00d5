"""``AuthAdapter``: credentials mounted on a URL prefix of a requests session.

Strictly private module. The adapter authenticates a *copy* of each request, so the
request a session copies for a redirect never carried credentials; a redirect to another
origin goes through that origin's adapter, without them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from authwire._core.schemes.base import AuthLike
from authwire.requests._auth import Auth, _Exchange

__all__ = ["AuthAdapter"]


class AuthAdapter(HTTPAdapter):
    """A transport adapter that authenticates every request sent through it.

    Mount it on the prefix the credentials belong to::

        session.mount("https://api.example.com/", AuthAdapter(cred))

    Args:
        auth: A credential, a scheme, or a ``+`` combination.
        origins: Origins the credentials may go to; default: the first request's.
        allow_insecure: Permit plain ``http://`` to hosts other than loopback.
        **adapter_kwargs: Passed to ``requests.adapters.HTTPAdapter`` (``max_retries``,
            ``pool_connections``, ``pool_maxsize``, ``pool_block``).
    """

    def __init__(
        self,
        auth: AuthLike,
        *,
        origins: Iterable[str] | str | None = None,
        allow_insecure: bool = False,
        **adapter_kwargs: Any,
    ) -> None:
        super().__init__(**adapter_kwargs)
        self.auth = Auth(auth, origins=origins, allow_insecure=allow_insecure)

    __attrs__ = [*HTTPAdapter.__attrs__, "auth"]  # noqa: RUF012 (requests pickles these)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Authenticate a copy of ``request``, send it, and answer challenges."""
        prepared = request.copy()
        prepared.hooks = {"response": []}
        self.auth(prepared)
        *foreign, exchange = prepared.hooks["response"]
        assert isinstance(exchange, _Exchange)
        response = super().send(prepared, **kwargs)
        for hook in foreign:  # a chain's own requests handlers answer first, as in a session
            response = hook(response, **kwargs) or response
        if response.status_code == 401 or exchange.stepper is not None:
            response = self.auth._answer(exchange, response, self._send_plain, kwargs)
        return response

    def _send_plain(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        return super().send(request, **kwargs)
