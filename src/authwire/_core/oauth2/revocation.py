"""Token revocation (RFC 7009).

Strictly private. A revocation request is a ``POST`` of ``token`` and
``token_type_hint`` with the client's authentication. The server answers 200 whether or
not the token was valid (section 2.2); ``unsupported_token_type`` (a JWT access token the
server cannot revoke) is reported as ``False`` rather than raised.
"""

from __future__ import annotations

from authwire._core.flow import Flow
from authwire._core.http import Headers, HttpRequest, HttpResponse, form_body
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire._core.oauth2.token_response import parse_token_response
from authwire._core.redact import Secret

__all__ = ["build_revocation_request", "revoke_flow"]


def build_revocation_request(
    url: str,
    endpoint: TokenEndpoint,
    token: str | Secret[str],
    token_type_hint: str | None,
    *,
    now: float | None = None,
) -> HttpRequest:
    """The revocation ``POST`` for ``token`` (section 2.1)."""
    token = token if isinstance(token, Secret) else Secret(token)
    form: dict[str, str | Secret[str]] = {"token": token}
    if token_type_hint:
        form["token_type_hint"] = token_type_hint
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    added = endpoint.client.apply(form, headers, audience=endpoint.url, now=now)
    return HttpRequest(
        method="POST",
        url=url,
        headers=Headers(headers),
        body=form_body(form),
        secrets=(*endpoint.client.secrets, token, *added),
    )


def revoke_flow(
    url: str,
    endpoint: TokenEndpoint,
    token: str | Secret[str],
    token_type_hint: str | None,
    *,
    now: float,
) -> Flow[bool]:
    """Revoke ``token``: ``True`` if accepted, ``False`` if the server cannot revoke its type.

    Raises:
        TokenRequestError: The server refused for another reason (e.g. ``invalid_client``).
    """
    if not isinstance(token, Secret):
        token = Secret(token)
    request = build_revocation_request(url, endpoint, token, token_type_hint, now=now)
    response: HttpResponse = yield request
    if 200 <= response.status < 300:
        return True
    try:
        parse_token_response(response, received_at=now, url=url, secrets=request.secrets)
    except Exception as exc:
        if getattr(exc, "error", None) == "unsupported_token_type":
            return False
        raise
    return True  # pragma: no cover - parse_token_response raises for every status >= 300
