"""The public face: sorted ``__all__`` equal to the public names, each one documented."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest

import authwire

#: Modules whose ``__all__`` is public API.
PUBLIC_MODULES = (
    "authwire",
    "authwire.errors",
    "authwire.testing",
    "authwire.requests",
    "authwire.httpx",
)
#: Names provided lazily by ``authwire.__getattr__`` (they need an optional dependency).
LAZY = {"Session"}


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _defined_public_names(module: ModuleType) -> set[str]:
    """Names bound in ``module`` that are authwire objects and do not start with ``_``."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and str(getattr(value, "__module__", "")).startswith("authwire")
    }


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_unique(name: str) -> None:
    """Each public module's ``__all__`` is sorted (case-sensitively) with no repeats."""
    exported = list(_module(name).__all__)
    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))


def _lazy_names(module: ModuleType) -> set[str]:
    """Names a module provides on first use through its ``__getattr__`` (``_EXPORTS``)."""
    return set(getattr(module, "_EXPORTS", {})) | (LAZY if module is authwire else set())


def test_top_level_all_equals_its_public_names() -> None:
    """authwire.__all__ is exactly its bound and lazily provided public names plus __version__."""
    expected = _defined_public_names(authwire) | _lazy_names(authwire) | {"__version__"}
    assert set(authwire.__all__) == expected


def test_lazy_exports_match_the_type_checking_imports() -> None:
    """Each lazily exported name comes from the module it is mapped to, as type checkers see it."""
    source = inspect.getsource(authwire)
    for name, module_name in getattr(authwire, "_EXPORTS", {}).items():
        value = getattr(authwire, name)
        assert getattr(importlib.import_module(module_name), name) is value
        assert f"from {module_name} import" in source, f"{name} not imported for type checkers"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_exported_name_resolves(name: str) -> None:
    """Every name in ``__all__`` can be read from its module (lazy ones included)."""
    module = _module(name)
    for exported in module.__all__:
        assert getattr(module, exported) is not None


def test_design_contract_names_are_exported() -> None:
    """The names DESIGN.md fixes that exist today are all exported from authwire."""
    contract = {
        "Token", "Credential", "ClientCredentials", "StaticToken", "ApiKey", "BasicAuth",
        "DigestAuth", "MemoryCache", "Session", "AuthwireError", "ConfigurationError",
        "InsecureTransportError", "CredentialUnavailable", "InteractionRequired",
        "TokenEndpointError", "TokenRequestError", "InvalidTokenResponse",
        "TokenEndpointUnreachable", "MutualAuthenticationError", "CacheError",
    }  # fmt: skip
    assert contract <= set(authwire.__all__)


def _public_members(obj: type) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for attr, member in vars(obj).items():
        if attr.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            out.append((attr, member))
    return out


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(name: str) -> None:
    """Every exported class and function, and their public methods, carry a docstring."""
    module = _module(name)
    missing = []
    for exported in module.__all__:
        obj = getattr(module, exported)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not inspect.getdoc(obj):
            missing.append(exported)
        if inspect.isclass(obj) and str(obj.__module__).startswith("authwire"):
            for attr, member in _public_members(obj):
                if not inspect.getdoc(member) and not _inherits_doc(obj, attr):
                    missing.append(f"{exported}.{attr}")
    assert not missing, f"no docstring: {missing}"


def _inherits_doc(cls: type, attr: str) -> bool:
    return any(
        inspect.getdoc(getattr(base, attr, None)) for base in cls.__mro__[1:] if hasattr(base, attr)
    )
