"""``authwire explain``: how a credential would be found, and what could stand in its way.

Strictly private. Every check is a ``Check`` (a section, a state and a sentence); none
holds a secret: sources are shown by their repr (which never holds one) and only the
names of environment variables are listed.
"""

from __future__ import annotations

import email.utils
import os
import stat
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from authwire.config import Profile, config_path, load_config
from authwire.credentials.base import Credential
from authwire.errors import AuthwireError, CredentialUnavailable

if TYPE_CHECKING:
    from authwire.app import App

__all__ = ["Check", "explain"]

#: Clock skew (seconds) from which ``explain`` warns.
SKEW_WARNING: Final = 5.0


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report.

    Attributes:
        section: ``config``, ``source``, ``cache``, ``discovery`` or ``clock``.
        state: ``ok``, ``skipped``, ``failed``, ``warning``, ``info`` or ``not tried``.
        subject: What was checked.
        detail: What was found.
    """

    section: str
    state: str
    subject: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        """The check as JSON-ready data."""
        return {
            "section": self.section,
            "state": self.state,
            "subject": self.subject,
            "detail": self.detail,
        }


def _config(profile_name: str | None, app: App) -> tuple[list[Check], Profile | None]:
    checks: list[Check] = []
    path = config_path(app)
    prefix = app.env_prefix
    set_vars = sorted(n for n in os.environ if n.startswith(prefix) and os.environ[n])
    checks.append(
        Check(
            "config",
            "info",
            "environment",
            (f"{prefix}* set: " + ", ".join(set_vars)) if set_vars else f"no {prefix}* variables",
        )
    )
    builtin = app.builtin_profile()
    try:
        config = load_config(path, app=app)
    except AuthwireError as exc:
        checks.append(Check("config", "failed", str(path), exc.message))
        return checks, None
    if config is None:
        if builtin is not None and profile_name in (None, "default"):
            checks.append(Check("config", "info", str(path), f"does not exist; {app.name}'s own"))
            return checks, builtin
        checks.append(Check("config", "info", str(path), "does not exist (no profiles)"))
        return checks, None
    from authwire.config import active_profile_name

    name = profile_name or active_profile_name(config, app=app)
    why = (
        "--profile"
        if profile_name
        else app.env("PROFILE")
        if app.getenv("PROFILE")
        else "default_profile"
        if config.default_profile
        else "the fallback name"
    )
    profile = config.profiles.get(name)
    if profile is None and name == "default":
        profile = builtin
    state = "ok" if profile is not None else "warning"
    detail = f"{len(config.profiles)} profile(s); active: {name!r} (from {why})"
    if profile is None:
        detail += ", which is not in the file"
    checks.append(Check("config", state, str(path), detail))
    return checks, profile


def _sources(credential: Credential) -> list[Check]:
    from authwire.credentials.chain import CredentialChain

    sources = credential.sources if isinstance(credential, CredentialChain) else (credential,)
    checks: list[Check] = []
    found = False
    for source in sources:
        if found:
            checks.append(Check("source", "not tried", repr(source), "an earlier source won"))
            continue
        try:
            token = source.get_token()
        except CredentialUnavailable as exc:
            checks.append(Check("source", "skipped", repr(source), exc.message.splitlines()[0]))
            continue
        except AuthwireError as exc:
            # A failing source stops the chain: the later ones are never tried.
            checks.append(Check("source", "failed", repr(source), exc.message))
            found = True
            continue
        found = True
        left = token.expires_in(time.time())
        expiry = "no expiry" if left is None else f"expires in {int(left)} s"
        checks.append(Check("source", "ok", repr(source), f"gave a token ({expiry}); it wins"))
    return checks


def _cache(profile: Profile) -> list[Check]:
    try:
        cache = profile.make_cache()
    except AuthwireError as exc:
        return [Check("cache", "failed", profile.shown_cache, exc.message)]
    from authwire.caches.file import FileCache

    where = cache.describe()
    if not isinstance(cache, FileCache):
        return [Check("cache", "info", where, "not a file cache: no permissions to check")]
    checks: list[Check] = []
    for path, want in ((cache.path, 0o700), (cache.file_for(profile.cache_key), 0o600)):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            checks.append(Check("cache", "info", str(path), "does not exist yet"))
            continue
        if mode & 0o077:
            checks.append(
                Check(
                    "cache",
                    "failed",
                    str(path),
                    f"mode {mode:o}: readable by others; fix with chmod {want:o} '{path}'",
                )
            )
        else:
            checks.append(Check("cache", "ok", str(path), f"mode {mode:o}"))
    return checks


def _server(profile: Profile, timeout: float) -> list[Check]:
    import httpx

    if profile.issuer:
        from authwire._core.oauth2.discovery import discovery_url

        url = discovery_url(profile.issuer)
        section = "discovery"
    else:
        url = profile.token_url or ""
        section = "token endpoint"
    from authwire._core.redact import redact_url

    shown = redact_url(url)  # the profile's URL may carry a password or a secret query
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=True) as client:
            before = time.time()
            response = client.get(url)
            after = time.time()
    except httpx.HTTPError as exc:
        return [Check(section, "failed", shown, f"unreachable: {type(exc).__name__}")]
    checks: list[Check] = []
    if section == "discovery":
        from authwire._core.http import json_or_none

        document = json_or_none(response.content) if response.status_code == 200 else None
        if isinstance(document, dict) and "token_endpoint" in document:
            checks.append(Check(section, "ok", shown, "reachable; names a token_endpoint"))
        else:
            checks.append(
                Check(section, "failed", shown, f"HTTP {response.status_code}: not a discovery doc")
            )
    else:
        checks.append(Check(section, "ok", shown, f"reachable (HTTP {response.status_code})"))
    date = response.headers.get("date")
    if not date:
        checks.append(Check("clock", "info", shown, "the server sent no Date header"))
        return checks
    try:
        server_time = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        checks.append(Check("clock", "info", shown, "the server's Date header is unreadable"))
        return checks
    # Date has one-second resolution: compare with the middle of the exchange.
    skew = server_time - (before + after) / 2
    state = "warning" if abs(skew) > SKEW_WARNING else "ok"
    ahead = "ahead of" if skew >= 0 else "behind"
    checks.append(
        Check("clock", state, shown, f"server clock {abs(skew):.0f} s {ahead} this machine's")
    )
    return checks


def explain(
    profile_name: str | None, *, timeout: float = 5.0, app: App | None = None
) -> list[Check]:
    """The report: config, each source of the default chain, cache, discovery, clock."""
    from authwire.app import DEFAULT_APP

    app = app or DEFAULT_APP
    checks, profile = _config(profile_name, app)
    checks += _sources(app.default_credential(profile=profile_name))
    if profile is not None:
        checks += _cache(profile)
        checks += _server(profile, timeout)
    return checks
