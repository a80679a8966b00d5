"""``TokenFile``: an SDK's own token file (its users' existing logins), read through a mapping.

Strictly private; re-exported by ``authwire.app`` and ``authwire``.

The file is one JSON object. Which of its fields hold the client id, the refresh token,
the access token and the expiry is declared, not guessed. It is read the way
``FileCache`` reads its files (no symlink followed, refused when group or others can
access it) and written the way ``FileCache`` writes them (0600, a temporary file then
``os.replace``).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authwire._core.token import Token
from authwire.errors import CacheError, ConfigurationError

__all__ = ["TokenFile", "TokenFileEntry"]

_POSIX = os.name == "posix"


def _loose(mode: int) -> bool:
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


@dataclass(frozen=True, slots=True)
class TokenFileEntry:
    """What a token file holds, in authwire's terms.

    Attributes:
        client_id: The client the login belongs to, if the file says.
        token: The access token (possibly empty) with its refresh token and expiry.
        fields: Every field of the file, for SDK-specific extras (secrets included: never
            log it).
    """

    client_id: str | None
    token: Token | None
    fields: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"TokenFileEntry(client_id={self.client_id!r}, token={self.token!r})"


@dataclass(frozen=True, slots=True)
class TokenFile:
    """An SDK's existing token file and the names of its fields.

    Args:
        path: The file (``~`` is expanded).
        client_id: The field holding the client id; ``None`` if the file has none.
        refresh_token: The field holding the refresh token.
        access_token: The field holding the access token; ``None`` if the file has none.
        expires_at: The field holding the expiry (epoch seconds); ``None`` (default) reads
            the access token's JWT ``exp`` claim instead.
        write: Keep writing the file (after a login or a refresh) so that the SDK's older
            releases, which read it, keep working. Default ``False``: read once, migrated
            into the app's cache.

    Example:
        >>> from authwire.app import TokenFile
        >>> TokenFile("~/.mysdk/token_info.json", access_token="jwt_token").path.name
        'token_info.json'
    """

    path: Path
    client_id: str | None = "client_id"
    refresh_token: str = "refresh_token"
    access_token: str | None = "access_token"
    expires_at: str | None = None
    write: bool = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        client_id: str | None = "client_id",
        refresh_token: str = "refresh_token",
        access_token: str | None = "access_token",
        expires_at: str | None = None,
        write: bool = False,
    ) -> None:
        if not refresh_token:
            raise ConfigurationError("TokenFile needs the name of its refresh token field")
        object.__setattr__(self, "path", Path(path).expanduser())
        object.__setattr__(self, "client_id", client_id)
        object.__setattr__(self, "refresh_token", refresh_token)
        object.__setattr__(self, "access_token", access_token)
        object.__setattr__(self, "expires_at", expires_at)
        object.__setattr__(self, "write", write)

    def read_fields(self) -> dict[str, Any] | None:
        """The file's JSON object; ``None`` if missing or not a JSON object.

        Raises:
            CacheError: The file is accessible by group or others, or cannot be read.
        """
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CacheError(
                f"cannot read the token file {self.path}: {exc.strerror}",
                location=str(self.path),
            ) from exc
        try:
            st = os.fstat(fd)
            if _POSIX and _loose(st.st_mode):
                raise CacheError(
                    f"the token file {self.path} is accessible by group or others "
                    f"(mode {stat.S_IMODE(st.st_mode):04o}). Fix it with: chmod 600 "
                    f"'{self.path}'",
                    location=str(self.path),
                )
            with os.fdopen(os.dup(fd), "rb") as file:
                raw = file.read(1 << 20)
        finally:
            os.close(fd)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def read(self) -> TokenFileEntry | None:
        """The login the file holds, or ``None`` (no file, no refresh or access token).

        Raises:
            CacheError: The file is accessible by group or others, or cannot be read.
        """
        data = self.read_fields()
        if data is None:
            return None

        def text(name: str | None) -> str | None:
            value = data.get(name) if name else None
            return value if isinstance(value, str) and value else None

        refresh = text(self.refresh_token)
        access = text(self.access_token)
        client_id = text(self.client_id)
        if refresh is None and access is None:
            return TokenFileEntry(client_id, None, data)
        expires_at: float | None = None
        if self.expires_at:
            raw_exp = data.get(self.expires_at)
            if isinstance(raw_exp, (int, float)) and not isinstance(raw_exp, bool):
                expires_at = float(raw_exp)
        token = Token(access or "", expires_at=expires_at, refresh_token=refresh)
        if expires_at is None and access:
            exp = token.claims.get("exp")
            if isinstance(exp, (int, float)) and not isinstance(exp, bool):
                token = Token(access, expires_at=float(exp), refresh_token=refresh)
        if not access:
            # No access token yet: an expired placeholder, so the first use refreshes.
            token = Token("", expires_at=0.0, refresh_token=refresh)
        return TokenFileEntry(client_id, token, data)

    def write_fields(self, fields: Mapping[str, Any]) -> None:
        """Replace the file with ``fields`` (0600, atomically; its folder created 0700).

        Raises:
            CacheError: The file cannot be written.
        """
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as exc:
            raise CacheError(
                f"cannot write the token file {self.path}: {exc.strerror}",
                location=str(self.path),
            ) from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                if _POSIX:
                    os.fchmod(out.fileno(), 0o600)
                json.dump(dict(fields), out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise CacheError(
                f"cannot write the token file {self.path}: {exc.strerror}",
                location=str(self.path),
            ) from exc

    def write_login(self, client_id: str | None, token: Token) -> None:
        """Save ``token`` (and ``client_id``) in the file's own fields, keeping the others.

        A token without a refresh token keeps the file's refresh token: a refresh that did
        not rotate it must not lose it.

        Raises:
            CacheError: The file cannot be read or written.
        """
        fields = self.read_fields() or {}
        if client_id is not None and self.client_id:
            fields[self.client_id] = client_id
        if token.refresh_token:
            fields[self.refresh_token] = token.refresh_token
        if self.access_token and token.access_token:
            fields[self.access_token] = token.access_token
        if self.expires_at and token.expires_at is not None:
            fields[self.expires_at] = token.expires_at
        self.write_fields(fields)

    def delete(self) -> bool:
        """Remove the file; whether there was one."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise CacheError(
                f"cannot remove the token file {self.path}: {exc.strerror}",
                location=str(self.path),
            ) from exc
        return True
