"""``LoginEndpoint``: POST a username and password to a vendor login URL, get a token.

The pattern of ArcGIS ``generateToken``, Arthur's ``user_login`` and many in-house APIs
that predate OAuth. The login request and the parsing of its answer are pure (a flow, like
the OAuth grants); the ``TokenManager`` caches the token, logs in again before it expires,
and the bearer scheme logs in again after a 401.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Final, Literal

from authwire._core.flow import Flow
from authwire._core.http import Headers, HttpRequest, HttpResponse, form_body
from authwire._core.oauth2.token_response import finite_number
from authwire._core.origin import require_secure
from authwire._core.redact import Secret, redact_text, redact_url, reveal, snippet
from authwire._core.retry import DEFAULT_RETRY, RetryPolicy, send_with_retries
from authwire._core.schemes.base import AuthScheme
from authwire._core.schemes.bearer import BearerAuth
from authwire._core.token import Token, decode_jwt_claims
from authwire.caches.base import secret_fingerprint
from authwire.credentials.base import ManagedCredential
from authwire.errors import ConfigurationError, InvalidTokenResponse, TokenRequestError

__all__ = ["LoginEndpoint"]

#: Field names looked for, in order, next to the token when no ``expires_path`` is given.
EXPIRY_FIELDS: Final = (
    "expires_in",
    "expiresIn",
    "expires_at",
    "expiresAt",
    "expires",
    "expiration",
    "expiry",
    "exp",
)
#: Fields whose number is a lifetime in seconds, never a moment.
_RELATIVE: Final = frozenset({"expires_in", "expiresIn"})
#: Numbers at least this large are epoch milliseconds (the year 5138 in seconds).
_MS_THRESHOLD: Final = 1e11
#: Numbers below this (the year 2001 in seconds) are lifetimes, not moments.
_EPOCH_THRESHOLD: Final = 1e9

Path = tuple[str, ...]


def _path(value: str | Sequence[str], what: str) -> Path:
    parts = tuple(value.split(".")) if isinstance(value, str) else tuple(value)
    if not parts or not all(isinstance(p, str) and p for p in parts):
        raise ConfigurationError(f"{what} must be a dotted path like 'data.access_token'")
    return parts


def _get(data: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def expiry_from(name: str, value: Any, received_at: float) -> float | None:
    """The expiry (epoch seconds) meant by field ``name`` holding ``value``.

    ``expires_in`` is a lifetime in seconds. Other fields are read by size: epoch
    milliseconds (ArcGIS ``expires``), epoch seconds, or a lifetime in seconds for
    numbers too small to be a date; an ISO 8601 string is a moment.

    Returns:
        The expiry, or ``None`` if ``value`` is no kind of expiry.
    """
    number = finite_number(value)
    if number is None:
        if isinstance(value, str) and value.strip():
            try:
                when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return when.timestamp()
        return None
    if name in _RELATIVE or 0 <= number < _EPOCH_THRESHOLD:
        return received_at + max(number, 0.0)
    if number >= _MS_THRESHOLD:
        return number / 1000.0
    return number


class LoginSpec:
    """Everything a login request and its answer need. Immutable by convention; private."""

    __slots__ = (
        "body",
        "expires_path",
        "extra_fields",
        "headers",
        "password",
        "password_field",
        "token_path",
        "url",
        "username",
        "username_field",
    )

    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: Secret[str],
        body: Literal["form", "json"],
        username_field: Path,
        password_field: Path,
        extra_fields: Mapping[str, Any],
        headers: Mapping[str, str],
        token_path: Path,
        expires_path: Path | None,
    ) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.body = body
        self.username_field = username_field
        self.password_field = password_field
        self.extra_fields = dict(extra_fields)
        self.headers = dict(headers)
        self.token_path = token_path
        self.expires_path = expires_path


def _put(data: dict[str, Any], path: Path, value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def _secrets(spec: LoginSpec) -> tuple[Secret[str], ...]:
    """The password and every extra field given as a ``Secret``."""
    extra = [v for v in spec.extra_fields.values() if isinstance(v, Secret) and v]
    return (spec.password, *extra)


def _form_value(value: Any) -> str | Secret[str]:
    if isinstance(value, Secret):
        return value  # revealed by form_body, as the body is encoded
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _encode_secret(value: Any) -> Any:
    """``json.dumps`` hook: a ``Secret`` is revealed only while the body is encoded."""
    if isinstance(value, Secret):
        return value.reveal()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def build_login_request(spec: LoginSpec) -> HttpRequest:
    """The login request: the credentials and extra fields as a form or a JSON body.

    The password and secret extra fields stay ``Secret`` until the body is encoded.
    """
    headers = {"Accept": "application/json", **spec.headers}
    if spec.body == "json":
        payload: dict[str, Any] = {}
        for name, value in spec.extra_fields.items():
            _put(payload, tuple(name.split(".")), value)
        _put(payload, spec.username_field, spec.username)
        _put(payload, spec.password_field, spec.password)
        body = json.dumps(payload, default=_encode_secret).encode()
        headers.setdefault("Content-Type", "application/json")
    else:
        fields = [(k, _form_value(v)) for k, v in spec.extra_fields.items()]
        fields.append((".".join(spec.username_field), spec.username))
        fields.append((".".join(spec.password_field), spec.password))
        body = form_body(fields)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return HttpRequest("POST", spec.url, Headers(headers), body, secrets=_secrets(spec))


def _error_fields(error: Any, secrets: Sequence[Secret[str]]) -> tuple[str | None, str | None]:
    """The ``error`` code and a description from a string or an ArcGIS-style error object."""
    if isinstance(error, str):
        return redact_text(error, secrets)[:100], None
    if isinstance(error, dict):
        code = error.get("code", error.get("error"))
        parts = [error.get("message"), error.get("description")]
        details = error.get("details")
        if isinstance(details, list):
            parts.extend(details)
        text = "; ".join(str(p) for p in parts if isinstance(p, str) and p)
        return (
            redact_text(str(code), secrets)[:100] if code is not None else None,
            redact_text(text, secrets)[:300] or None,
        )
    return None, None


def _login_error(data: Any, secrets: Sequence[Secret[str]]) -> tuple[str | None, str | None]:
    """The redacted error code and description of a refused login's body."""
    error, description = _error_fields(
        data.get("error") if isinstance(data, dict) else None, secrets
    )
    if description is None and isinstance(data, dict):
        for key in ("error_description", "message", "detail"):
            if isinstance(data.get(key), str):
                description = redact_text(data[key], secrets)[:300]
                break
    return error, description


def parse_login_response(response: HttpResponse, spec: LoginSpec, *, received_at: float) -> Token:
    """The ``Token`` in a login response, or the typed error it amounts to.

    Raises:
        TokenRequestError: An error status, or a success status whose body holds an
            ``error`` (ArcGIS answers a failed login with HTTP 200 and an error object).
        InvalidTokenResponse: No JSON, or no token at ``token_path``.
    """
    secrets = _secrets(spec)
    where = redact_url(spec.url)
    excerpt = snippet(response.body, secrets)
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    # The decoded body may echo the password: it is dropped before anything is raised,
    # so that it is not among the locals of the traceback (``capture_locals``, Sentry).
    if response.status >= 400 or (isinstance(data, dict) and data.get("error")):
        error, description = _login_error(data, secrets)
        del data
        raise TokenRequestError(
            url=where,
            status=response.status,
            error=error or "login_failed",
            error_description=description,
            snippet=excerpt,
        )
    if not 200 <= response.status < 300:
        result: Token | str = f"unexpected HTTP status {response.status}"
    elif not isinstance(data, dict):
        result = "expected a JSON object"
    else:
        result = _read_login_token(data, spec, received_at)
    del data
    if isinstance(result, Token):
        return result
    raise InvalidTokenResponse(reason=result, url=where, status=response.status, snippet=excerpt)


def _read_login_token(data: dict[str, Any], spec: LoginSpec, received_at: float) -> Token | str:
    """The ``Token`` in a decoded login answer, or why there is none."""
    where_token = ".".join(spec.token_path)
    access_token = _get(data, spec.token_path)
    if access_token is None:
        return f"no token at {where_token!r}"
    if not isinstance(access_token, str) or not access_token:
        return f"the value at {where_token!r} is not a string"

    expires_at: float | None = None
    if spec.expires_path is not None:
        raw = _get(data, spec.expires_path)
        if raw is not None:
            expires_at = expiry_from(spec.expires_path[-1], raw, received_at)
            if expires_at is None:
                return f"the value at {'.'.join(spec.expires_path)!r} is not an expiry"
    else:
        parent = _get(data, spec.token_path[:-1]) if len(spec.token_path) > 1 else data
        for scope in (parent, data):
            if not isinstance(scope, dict):
                continue
            for name in EXPIRY_FIELDS:
                if name in scope and scope[name] is not None:
                    expires_at = expiry_from(name, scope[name], received_at)
                    if expires_at is not None:
                        break
            if expires_at is not None:
                break
    if expires_at is None:
        exp = finite_number(decode_jwt_claims(access_token).get("exp"))
        if exp is not None:
            expires_at = exp
    return Token(access_token=access_token, expires_at=expires_at, issued_at=received_at)


def login_flow(spec: LoginSpec, *, clock: Any, retry: RetryPolicy = DEFAULT_RETRY) -> Flow[Token]:
    """Log in once (retrying 429/5xx and connection failures) and return the token."""
    request = build_login_request(spec)
    sent_at = clock()
    response = yield from send_with_retries(request, retry, now=clock)
    return parse_login_response(response, spec, received_at=sent_at)


class LoginEndpoint(ManagedCredential):
    """A token from POSTing a username and password to a vendor's login URL.

    The token is cached and reused, the login repeated before it expires and after a
    401. The expiry is read from ``expires_path`` or, without one, from the first of
    ``expires_in``, ``expires_at``, ``expires``, ``expiration``... found next to the token
    (seconds or milliseconds, lifetime or moment, told apart by size), else from the JWT
    ``exp`` claim; a token without any is used until a server rejects it.

    Args:
        url: The login URL.
        username: The user name.
        password: The password (a ``str`` or ``authwire.Secret``); never logged or shown.
        body: ``"form"`` (default, ``application/x-www-form-urlencoded``) or ``"json"``.
        username_field: The field for the user name (dotted for nested JSON). Default
            ``"username"``.
        password_field: The field for the password. Default ``"password"``.
        extra_fields: More fields sent with every login (``{"client": "referer",
            "referer": "https://app", "expiration": 60, "f": "json"}``). Wrap secret
            values in ``authwire.Secret``: they are then kept out of errors and logs.
        headers: Extra headers for the login request.
        token_path: Where the token is in the JSON answer, dotted (``"data.access_token"``).
            Default ``"access_token"``.
        expires_path: Where the expiry is, dotted; default: looked for next to the token.
        header: The header the token is sent in. Default ``Authorization``.
        prefix: What precedes the token in that header. ``None`` (default): ``Bearer``;
            ``""`` sends the bare token.
        allow_insecure: Permit a plain-http login URL that is not on loopback.
        **options: ``cache``, ``leeway``, ``mandatory``, ``timeout``, ``retries``,
            ``http_client``, ``on_refresh``, ``clock``: see ``ManagedCredential``.

    Raises:
        ConfigurationError: For a missing URL, user name or password, an unknown ``body``,
            or a malformed path.
        InsecureTransportError: For a plain-http login URL off loopback.

    Example:
        >>> cred = LoginEndpoint(
        ...     "https://api.example.com/api/v3/user_login",
        ...     "me@example.com",
        ...     "s3cr3t",
        ...     body="json",
        ...     username_field="login",
        ...     token_path="data.access_token",
        ... )
        >>> "s3cr3t" in repr(cred)
        False
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: str | Secret[str],
        *,
        body: Literal["form", "json"] = "form",
        username_field: str | Sequence[str] = "username",
        password_field: str | Sequence[str] = "password",
        extra_fields: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        token_path: str | Sequence[str] = "access_token",
        expires_path: str | Sequence[str] | None = None,
        header: str = "Authorization",
        prefix: str | None = None,
        allow_insecure: bool = False,
        **options: Any,
    ) -> None:
        if not url or not isinstance(url, str):
            raise ConfigurationError("url is required")
        if not username or not isinstance(username, str):
            raise ConfigurationError("username is required")
        secret = reveal(password)
        if not secret or not isinstance(secret, str):
            raise ConfigurationError("password is required")
        if body not in ("form", "json"):
            raise ConfigurationError(f"body must be 'form' or 'json', not {body!r}")
        if not header or not isinstance(header, str):
            raise ConfigurationError("header must be a header name")
        require_secure(url, allow_insecure=allow_insecure, what="a password")
        self._spec = LoginSpec(
            url=url,
            username=username,
            password=Secret(secret),
            body=body,
            username_field=_path(username_field, "username_field"),
            password_field=_path(password_field, "password_field"),
            extra_fields=dict(extra_fields or {}),
            headers=dict(headers or {}),
            token_path=_path(token_path, "token_path"),
            expires_path=None if expires_path is None else _path(expires_path, "expires_path"),
        )
        self._header = header
        self._prefix = prefix
        super().__init__(**options)

    @classmethod
    def arcgis(
        cls,
        portal_url: str,
        username: str,
        password: str | Secret[str],
        *,
        referer: str,
        expiration: int = 60,
        **options: Any,
    ) -> LoginEndpoint:
        """A login to an ArcGIS portal's ``generateToken``, the token bound to ``referer``.

        Send requests with the same ``Referer`` (``authwire.Session(referer=...)``).

        Args:
            portal_url: The portal, e.g. ``https://www.arcgis.com`` or
                ``https://gis.example.com/portal``.
            username: The ArcGIS user name.
            password: The password.
            referer: The referer the token is bound to.
            expiration: The token lifetime asked for, in minutes. Default 60.
            **options: Anything ``LoginEndpoint`` takes.
        """
        return cls(
            portal_url.rstrip("/") + "/sharing/rest/generateToken",
            username,
            password,
            extra_fields={
                "client": "referer",
                "referer": referer,
                "expiration": expiration,
                "f": "json",
            },
            token_path="token",
            expires_path="expires",
            header="X-Esri-Authorization",
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"LoginEndpoint(url={redact_url(self._spec.url)!r}, username={self._spec.username!r})"
        )

    @property
    def url(self) -> str:
        """The login URL."""
        return self._spec.url

    @property
    def username(self) -> str:
        """The user name."""
        return self._spec.username

    def as_scheme(self) -> AuthScheme:
        """The token in ``header`` (``Authorization: Bearer`` by default), re-login on 401."""
        return BearerAuth(self, header=self._header, prefix=self._prefix)

    def _identity(self) -> Mapping[str, Any]:
        spec = self._spec
        return {
            "grant": "login",
            "url": spec.url,
            "username": spec.username,
            "username_field": list(spec.username_field),
            "password": secret_fingerprint(spec.password.reveal()),
            "password_field": list(spec.password_field),
            # A tenant or an API key in a header makes another login: by fingerprint.
            "headers": sorted(
                (k.lower(), secret_fingerprint(v) or "") for k, v in spec.headers.items()
            ),
            "fields": sorted(
                f"{k}={secret_fingerprint(v.reveal()) if isinstance(v, Secret) else v}"
                for k, v in spec.extra_fields.items()
            ),
            "token_path": list(spec.token_path),
        }

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        return login_flow(self._spec, clock=self._clock, retry=self._retry)
