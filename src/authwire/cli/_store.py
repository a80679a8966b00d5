"""Changing the profiles file: add, use, remove. Strictly private.

The file is read with ``tomllib``, changed as plain data, checked by parsing it the way
``authwire.config`` does, and written atomically (a temporary file, then ``os.replace``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authwire.cli._toml import dumps
from authwire.config import ProfileConfig, config_path, load_config
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from authwire.app import App

__all__ = ["add_profile", "remove_profile", "use_profile"]


def _read(path: Path, app: App | None) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    load_config(path, app=app)  # a malformed file is reported, not overwritten
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    return dict(tomllib.loads(raw.decode("utf-8")))


def _write(path: Path, data: dict[str, Any], app: App | None) -> ProfileConfig:
    text = dumps(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        checked = load_config(tmp, app=app)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    assert checked is not None
    return ProfileConfig(
        path=path, profiles=checked.profiles, default_profile=checked.default_profile, app=app
    )


def _profiles_with(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    """The profiles table of ``data``, which must hold ``name``."""
    profiles: dict[str, Any] = data.get("profiles", {})
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigurationError(f"no profile {name!r} in {path} (profiles: {known})")
    return profiles


def _with_default(data: dict[str, Any], name: str) -> dict[str, Any]:
    # default_profile first: TOML needs top-level keys before the tables.
    return {"default_profile": name, **{k: v for k, v in data.items() if k != "default_profile"}}


def add_profile(
    name: str,
    settings: dict[str, Any],
    *,
    make_default: bool,
    replace: bool,
    app: App | None = None,
) -> ProfileConfig:
    """Add (or with ``replace`` overwrite) the profile ``name``; returns the new config.

    The first profile in a file becomes the default one.

    Raises:
        ConfigurationError: The profile exists and ``replace`` is false, or the settings
            are not a valid profile (nothing is written then).
    """
    path = config_path(app)
    data = _read(path, app)
    profiles = data.setdefault("profiles", {})
    if name in profiles and not replace:
        raise ConfigurationError(
            f"profile {name!r} already exists in {path}; use --replace to overwrite it"
        )
    profiles[name] = {k: v for k, v in settings.items() if v not in (None, [], ())}
    if make_default or "default_profile" not in data:
        data = _with_default(data, name)
    return _write(path, data, app)


def use_profile(name: str, app: App | None = None) -> ProfileConfig:
    """Make ``name`` the default profile.

    Raises:
        ConfigurationError: There is no such profile.
    """
    path = config_path(app)
    data = _read(path, app)
    _profiles_with(data, name, path)
    return _write(path, _with_default(data, name), app)


def remove_profile(name: str, app: App | None = None) -> ProfileConfig:
    """Remove the profile ``name`` (and the default, if it was the default).

    Raises:
        ConfigurationError: There is no such profile.
    """
    path = config_path(app)
    data = _read(path, app)
    profiles = _profiles_with(data, name, path)
    del profiles[name]
    if data.get("default_profile") == name:
        del data["default_profile"]
    return _write(path, data, app)
