"""Building token requests (RFC 6749 sections 4.4 and 6; RFC 8707 ``resource``).

Strictly private.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from authwire._core.http import Headers, HttpRequest, form_body
from authwire._core.oauth2.client_auth import ClientAuth
from authwire._core.redact import Secret, redact_url, wrap_secrets

__all__ = ["TokenEndpoint", "build_form_request", "build_token_request", "normalize_scope"]


def normalize_scope(scope: str | Iterable[str] | None) -> str | None:
    """A scope as the space-separated string OAuth sends (``None`` or empty stays ``None``)."""
    if scope is None:
        return None
    words = scope.split() if isinstance(scope, str) else [w for s in scope for w in s.split()]
    return " ".join(words) or None


@dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """Where and how a client asks for tokens; shared by every grant of that client.

    Attributes:
        url: The token endpoint.
        client: The client's identity and authentication method.
        scope: The scope requested, space-separated.
        audience: The ``audience`` parameter (Auth0, token exchange), if any.
        resource: RFC 8707 resource indicators, if any.
        extra: More form parameters, sent on every request (kept on every re-fetch).
        headers: More HTTP headers for token requests.
        dpop: The ``DPoPKey`` that token requests carry proofs of (RFC 9449), if any.
    """

    url: str
    client: ClientAuth
    scope: str | None = None
    audience: str | None = None
    resource: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=())
    dpop: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        # By hand: the URL redacted (userinfo, secret query values), the extra fields and
        # headers by name only (they may carry secrets), for tracebacks with locals.
        return (
            f"TokenEndpoint(url={redact_url(self.url)!r}, client={self.client!r}, "
            f"scope={self.scope!r}, audience={self.audience!r}, resource={self.resource!r}, "
            f"extra={[k for k, _ in self.extra]!r}, headers={[k for k, _ in self.headers]!r})"
        )


def build_token_request(
    endpoint: TokenEndpoint,
    grant_type: str,
    params: Mapping[str, str | Secret[str] | None] | None = None,
    *,
    secrets: Sequence[str | Secret[str]] = (),
    include_scope: bool = True,
    now: float | None = None,
) -> HttpRequest:
    """A ``POST`` to the token endpoint for ``grant_type``.

    Args:
        endpoint: The endpoint and client.
        grant_type: The ``grant_type`` value.
        params: Grant-specific parameters; ``None`` values are left out. Give secret
            values (a password, a refresh token) as ``Secret``: they stay wrapped until
            the body is encoded, and are kept out of errors.
        secrets: More values in ``params`` that must never be shown.
        include_scope: Send the endpoint's scope, audience and resources (a refresh may omit
            them to keep the originally granted scope).
        now: The time for client assertions (epoch seconds). Default: the system clock.
    """
    form: dict[str, str | Secret[str]] = {"grant_type": grant_type}
    for key, value in (params or {}).items():
        if value is not None:
            form[key] = value
    return build_form_request(
        endpoint.url, endpoint, form, secrets=secrets, include_scope=include_scope, now=now
    )


def build_form_request(
    url: str,
    endpoint: TokenEndpoint,
    form: dict[str, str | Secret[str]],
    *,
    secrets: Sequence[str | Secret[str]] = (),
    include_scope: bool = True,
    now: float | None = None,
) -> HttpRequest:
    """A form ``POST`` to ``url`` authenticated as ``endpoint``'s client.

    Args:
        url: Where to post (the token endpoint, or another of the server's endpoints).
        endpoint: The client, its scope, audience, resources, extra fields and headers.
        form: The request's own fields; the client authentication is added to it.
            ``Secret`` values are revealed only when the body is encoded, and never shown.
        secrets: More values in ``form`` that must never be shown.
        include_scope: Send the endpoint's scope, audience and resources.
        now: The time for client assertions (epoch seconds). Default: the system clock.
    """
    headers: dict[str, str] = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    added = endpoint.client.apply(form, headers, audience=endpoint.url, now=now)
    pairs: list[tuple[str, str | Secret[str]]] = list(form.items())
    if include_scope:
        if endpoint.scope and "scope" not in form:
            pairs.append(("scope", endpoint.scope))
        if endpoint.audience and "audience" not in form:
            pairs.append(("audience", endpoint.audience))
        pairs.extend(("resource", r) for r in endpoint.resource)
    pairs.extend((k, v) for k, v in endpoint.extra if k not in form)
    headers.update(dict(endpoint.headers))
    return HttpRequest(
        method="POST",
        url=url,
        headers=Headers(headers),
        body=form_body(pairs),
        secrets=wrap_secrets(
            (
                *endpoint.client.secrets,
                *secrets,
                *added,
                *(v for v in form.values() if isinstance(v, Secret)),
            )
        ),
    )
