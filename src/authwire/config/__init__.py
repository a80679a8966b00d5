"""Profiles in a TOML file, and the credential of the active profile.

Example:
    >>> from authwire.config import load_config
    >>> config = load_config("/nonexistent/config.toml")
    >>> config is None
    True
"""

from authwire.config._credential import ProfileCredential
from authwire.config._profiles import (
    GRANTS,
    Profile,
    ProfileConfig,
    active_profile_name,
    config_path,
    load_config,
)

__all__ = [
    "GRANTS",
    "Profile",
    "ProfileConfig",
    "ProfileCredential",
    "active_profile_name",
    "config_path",
    "load_config",
]
