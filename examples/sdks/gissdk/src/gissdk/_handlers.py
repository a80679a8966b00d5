"""The ``arcgis.auth`` handlers by their names, each mapped onto an authwire scheme.

Every handler is a ``requests.auth.AuthBase`` (so ``requests.get(url, auth=handler)``
works) and an authwire scheme source (``as_scheme()``), so it chains with ``+`` with the
other handlers, with authwire's own schemes and with a user's ``requests.auth.AuthBase``.
authwire does the work: logins, caching, refresh on expiry, one re-login on a 401,
origin binding, Kerberos/NTLM legs.
"""

from __future__ import annotations

import time
from typing import Any

import requests

import authwire
import authwire.requests

__all__ = [
    "BaseEsriAuth",
    "EsriAPIKeyAuth",
    "EsriBasicAuth",
    "EsriBuiltInAuth",
    "EsriGenTokenAuth",
    "EsriHttpNtlmAuth",
    "EsriHttpResponseError",
    "EsriKerberosAuth",
    "EsriNotebookAuth",
    "EsriOAuth2Auth",
    "EsriPKIAuth",
    "EsriUserTokenAuth",
    "EsriWindowsAuth",
]

#: The header ArcGIS reads tokens from (``Authorization`` is left to web-tier auth).
TOKEN_HEADER = "X-Esri-Authorization"


class EsriHttpResponseError(Exception):
    """An HTTP error from an ArcGIS service.

    Attributes:
        message: What went wrong.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BaseEsriAuth(requests.auth.AuthBase):
    """A base class for custom handlers: sends ``token`` and runs ``response_hook``.

    Subclass it and override ``token`` (and ``response_hook`` to look at responses). It
    joins chains as any ``requests.auth.AuthBase`` does:
    ``EsriAPIKeyAuth(key) + MyHandler()``.
    """

    @property
    def token(self) -> str | None:
        """The ArcGIS token to send, or ``None`` to send none."""
        return None

    def response_hook(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Look at (or replace) each response; returns it unchanged by default."""
        return response

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.token
        if token:
            request.headers[TOKEN_HEADER] = f"Bearer {token}"
        request.register_hook("response", self.response_hook)  # type: ignore[no-untyped-call]
        return request


class _Mapped(requests.auth.AuthBase):
    """A handler whose work an authwire scheme does. Strictly private base."""

    _scheme: authwire.AuthScheme
    _chained: Any = None
    _plain: authwire.requests.Auth | None = None

    def as_scheme(self) -> authwire.AuthScheme:
        """The authwire scheme that does this handler's work (with a chained ``auth=``)."""
        if self._chained is not None:
            return self._scheme.__add__(self._chained)
        return self._scheme

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # Used directly by requests (``requests.get(url, auth=handler)``).
        if self._plain is None:
            self._plain = authwire.requests.Auth(self.as_scheme())
        return self._plain(request)

    def __add__(self, other: Any) -> authwire.AuthScheme:
        return self.as_scheme().__add__(other)

    def __radd__(self, other: Any) -> authwire.AuthScheme:
        return self.as_scheme().__radd__(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._scheme!r})"


class _TokenFromCredential(_Mapped):
    """A handler backed by an authwire credential (a login, an OAuth grant)."""

    _credential: authwire.Credential

    @property
    def token(self) -> str:
        """The current token (logging in first if needed)."""
        return self._credential.get_token().access_token


class EsriAPIKeyAuth(_Mapped):
    """An ArcGIS API key, sent as ``X-Esri-Authorization: Bearer <key>``.

    Args:
        api_key: The key.
        referer: Accepted for compatibility (API keys are not bound to a referer).
        verify_cert: Accepted for compatibility; the session's ``verify_cert`` applies.
        auth: Another handler applied with this one (``auth.api_key`` chained).
    """

    def __init__(
        self,
        api_key: str,
        referer: str | None = None,
        verify_cert: bool = True,
        auth: Any = None,
    ) -> None:
        self.referer = referer
        self.verify_cert = verify_cert
        self.auth = auth
        self._chained = auth
        self.token = api_key

    @property
    def token(self) -> str:
        """Gets/Sets the API key."""
        return self.api_key

    @token.setter
    def token(self, value: str) -> None:
        self.api_key = value
        self._scheme = authwire.ApiKey(value, header=TOKEN_HEADER, prefix="Bearer")
        self._plain = None

    def add_api_token(self, r: requests.PreparedRequest, **kwargs: Any) -> requests.PreparedRequest:
        """Add the key to ``r``."""
        return self(r)


class EsriBasicAuth(_Mapped):
    """HTTP Basic authentication (web-tier); no ArcGIS token.

    Args:
        username: The user.
        password: The password.
        referer: Kept as ``.referer``.
        verify_cert: Accepted for compatibility.
    """

    auth = None

    def __init__(
        self,
        username: str,
        password: str,
        referer: str = "http",
        verify_cert: bool = True,
        **kwargs: Any,
    ) -> None:
        self.username = username
        self.referer = referer
        self.verify_cert = verify_cert
        self._scheme = authwire.BasicAuth(username, authwire.Secret(password))

    @property
    def token(self) -> None:
        """Always ``None``: Basic sends no token."""
        return None

    def generate_portal_server_token(
        self, r: requests.Response, **kwargs: Any
    ) -> requests.Response:
        """Federated server tokens are not generated: the response is returned as is."""
        return r


class EsriBuiltInAuth(_TokenFromCredential):
    """A built-in (portal) user login through ``generateToken``, re-login on expiry or 401.

    Args:
        url: The portal URL.
        username: The user.
        password: The password.
        expiration: Token lifetime asked for, in minutes. ``None``: 60.
        legacy: Accepted for compatibility.
        verify_cert: Accepted for compatibility; the session's ``verify_cert`` applies.
        referer: The referer the token is bound to. ``None``: ``"http"``.
        **kwargs: ``cache=``, ``http_client=``... passed to ``authwire.LoginEndpoint``.
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        expiration: int | None = None,
        legacy: bool = False,
        verify_cert: bool = True,
        referer: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self.referer = referer or "http"
        self.expiration = expiration or 60
        self._credential = authwire.LoginEndpoint.arcgis(
            self.url,
            username,
            authwire.Secret(password),
            referer=self.referer,
            expiration=self.expiration,
            **kwargs,
        )
        self._scheme = self._credential.as_scheme()

    def handle_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        """Returns ``r``: a rejected token is answered by authwire (one re-login, one replay)."""
        return r

    def suspend(self) -> bool:
        """Forget the login: the next request logs in again. Returns ``True``."""
        token = self._credential.peek(time.time())
        if token is not None:
            self._credential.invalidate(token)
        return True


class EsriGenTokenAuth(_TokenFromCredential):
    """A token from a server's or portal's ``generateToken`` (legacy, unfederated servers).

    Args:
        token_url: The ``generateToken`` URL.
        referer: The referer the token is bound to.
        username: The user.
        password: The password.
        portal_auth: Not supported: see the README (federation).
        time_out: Token lifetime in minutes. Default 1440.
        verify_cert: Accepted for compatibility.
        legacy: Accepted for compatibility.
        **kwargs: Passed to ``authwire.LoginEndpoint``.
    """

    def __init__(
        self,
        token_url: str,
        referer: str,
        username: str | None = None,
        password: str | None = None,
        portal_auth: Any = None,
        time_out: int = 1440,
        verify_cert: bool = True,
        legacy: bool = False,
        **kwargs: Any,
    ) -> None:
        if portal_auth is not None or username is None or password is None:
            raise authwire.ConfigurationError(
                "EsriGenTokenAuth needs username and password (portal_auth federation "
                "is not supported by this example)"
            )
        self._referer = referer
        self._time_out = time_out
        self._credential = authwire.LoginEndpoint(
            token_url,
            username,
            authwire.Secret(password),
            extra_fields={
                "client": "referer",
                "referer": referer,
                "expiration": time_out,
                "f": "json",
            },
            token_path="token",
            expires_path="expires",
            header=TOKEN_HEADER,
            **kwargs,
        )
        self._scheme = self._credential.as_scheme()

    @property
    def referer(self) -> str:
        """The referer the token is bound to."""
        return self._referer

    @property
    def time_out(self) -> int:
        """The token lifetime asked for, in minutes."""
        return self._time_out

    @property
    def expiration(self) -> float | None:
        """When the current token expires (epoch seconds)."""
        return self._credential.get_token().expires_at

    @property
    def token(self) -> Any:
        """``token(server_url=None)``: the current token (``server_url`` is ignored)."""
        credential = self._credential

        def token(server_url: str | None = None) -> str:
            return credential.get_token().access_token

        return token

    def handle_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        """Returns ``r``: a rejected token is answered by authwire (one re-login, one replay)."""
        return r

    def handle_redirect(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        """Returns ``r``: authwire strips credentials on a redirect that leaves the origin."""
        return r

    def init_per_thread_state(self) -> None:
        """Nothing to do: authwire keeps per-request state in the request's flow."""


class EsriHttpNtlmAuth(_Mapped):
    r"""NTLM through authwire's NTLM (pyspnego).

    Args:
        username: ``DOMAIN\\user`` or ``user@domain``.
        password: The password.
        session: Accepted for compatibility.
        send_cbt: Bind to the TLS channel (channel bindings). Default ``True``.
    """

    def __init__(
        self,
        username: str,
        password: str,
        session: Any = None,
        send_cbt: bool = True,
        **kwargs: Any,
    ) -> None:
        self.username = username
        self.send_cbt = send_cbt
        self._scheme = authwire.NTLM(username, authwire.Secret(password), channel_bindings=send_cbt)


class EsriKerberosAuth(_Mapped):
    """Kerberos (SPNEGO) through ``authwire.Negotiate``, from the ticket cache or a password.

    Args:
        referer: Kept as ``.referer``.
        verify_cert: Accepted for compatibility.
        username: The principal (``user@REALM``); default: the cache's.
        password: With ``username``, get a ticket with it instead of the cache.
    """

    def __init__(
        self,
        referer: str | None = None,
        verify_cert: bool = True,
        *,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.referer = referer
        self._scheme = authwire.Negotiate(
            principal=username,
            password=authwire.Secret(password) if password else None,
            mutual_authentication="optional",
        )

    @property
    def token(self) -> None:
        """Always ``None``: Kerberos sends no ArcGIS token."""
        return None

    def generate_portal_server_token(
        self, r: requests.Response, **kwargs: Any
    ) -> requests.Response:
        """Federated server tokens are not generated: the response is returned as is."""
        return r


class EsriWindowsAuth(EsriKerberosAuth):
    """Integrated Windows authentication: SPNEGO (Kerberos, NTLM fallback)."""


class _StaticTokenAuth(_Mapped):
    def _set(self, token: str) -> None:
        self._token = token
        self._scheme = authwire.BearerAuth(authwire.StaticToken(token), header=TOKEN_HEADER)
        self._plain = None


class EsriNotebookAuth(_StaticTokenAuth):
    """The token a notebook server hands its kernels.

    Args:
        token: The token.
        referer: Kept as ``.referer``.
        auth: Another handler applied with this one.
    """

    def __init__(
        self, token: str, referer: str | None = None, auth: Any = None, **kwargs: Any
    ) -> None:
        self.referer = referer
        self.auth = auth
        self._chained = auth
        self._set(token)

    @property
    def token(self) -> str:
        """Gets/Sets the token."""
        return self._token

    @token.setter
    def token(self, value: str) -> None:
        self._set(value)

    def add_token(self, r: requests.PreparedRequest, **kwargs: Any) -> requests.PreparedRequest:
        """Add the token to ``r``."""
        return self(r)


class EsriUserTokenAuth(_StaticTokenAuth):
    """A token the user already has; a 401 is returned (it cannot be renewed).

    Args:
        token: The token.
        referer: Kept as ``.referer``.
        verify_cert: Accepted for compatibility.
    """

    auth = None

    def __init__(
        self, token: str, referer: str | None = None, verify_cert: bool = True, **kwargs: Any
    ) -> None:
        self.referer = referer
        self._set(token)

    @property
    def token(self) -> str:
        """The token."""
        return self._token

    def handle_40x(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        """A rejected user token cannot be renewed: ``r`` is returned as is."""
        return r


class EsriOAuth2Auth(_TokenFromCredential):
    """OAuth 2 against a portal's ``/sharing/rest/oauth2/token``.

    With ``client_secret``: the client-credentials grant (an app login). With
    ``username``/``password``: the password grant.

    Args:
        base_url: The portal URL.
        client_id: The app's client id.
        client_secret: The app's secret.
        username: A user, for the password grant.
        password: Their password.
        referer: Kept as ``.referer``.
        expiration: Accepted for compatibility (the portal sets the lifetime).
        proxies: Accepted for compatibility; the session's proxies apply.
        session: Accepted for compatibility.
        **kwargs: ``token_url=`` (default ``<base_url>/sharing/rest/oauth2/token``), and
            what the authwire grant takes (``cache=``, ``http_client=``...).
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str | None = None,
        username: str | None = None,
        password: str | None = None,
        referer: str = "http",
        expiration: int = 1440,
        proxies: Any = None,
        session: Any = None,
        **kwargs: Any,
    ) -> None:
        self.referer = referer
        default_url = base_url.rstrip("/") + "/sharing/rest/oauth2/token"
        token_url = kwargs.pop("token_url", default_url)
        credential: authwire.Credential
        if username is not None and password is not None:
            credential = authwire.PasswordGrant(
                token_url,
                username=username,
                password=authwire.Secret(password),
                client_id=client_id,
                auth_method="client_secret_post" if client_secret else "none",
                client_secret=client_secret,
                **kwargs,
            )
        elif client_secret is not None:
            credential = authwire.ClientCredentials(
                token_url,
                client_id=client_id,
                client_secret=authwire.Secret(client_secret),
                auth_method="client_secret_post",
                **kwargs,
            )
        else:
            raise authwire.ConfigurationError(
                "EsriOAuth2Auth needs client_secret, or username and password (the browser "
                "sign-in is not supported by this example)"
            )
        self._credential = credential
        self._scheme = authwire.BearerAuth(credential, header=TOKEN_HEADER)

    def handle_40x(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        """Returns ``r``: a rejected token is answered by authwire (one refresh, one replay)."""
        return r


class EsriPKIAuth(_Mapped):
    """A client certificate (PKI), presented in the TLS handshake by the session.

    Args:
        cert: ``(cert, key)`` PEM files, a PEM file holding both, or a PKCS#12 file.
        referer: Kept as ``.referer``.
        verify_cert: Accepted for compatibility.
    """

    def __init__(
        self, cert: Any, referer: str | None = None, verify_cert: bool = True, **kwargs: Any
    ) -> None:
        self.referer = referer
        self.cert = cert
        if isinstance(cert, tuple):
            self._scheme = authwire.ClientCertificate(*cert)
        else:
            self._scheme = authwire.ClientCertificate(cert)

    @property
    def token(self) -> None:
        """``None``: the certificate authenticates; no token is generated."""
        return None

    def generate_portal_server_token(
        self, r: requests.Response, **kwargs: Any
    ) -> requests.Response:
        """Federated server tokens are not generated: the response is returned as is."""
        return r
