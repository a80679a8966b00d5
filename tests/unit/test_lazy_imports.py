"""``import authwire`` is cheap: public names are imported on first use (PEP 562).

The names and their modules are listed twice in ``authwire/__init__.py`` (the
TYPE_CHECKING imports, for type checkers and the docs, and ``_EXPORTS``, for the
runtime); these tests keep the two lists, ``__all__`` and the modules in step.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import authwire


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(Path(authwire.__file__).read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                for alias in stmt.names:
                    names[alias.asname or alias.name] = stmt.module or ""
    return names


def test_exports_match_the_type_checking_imports() -> None:
    """``_EXPORTS`` names the same modules as the TYPE_CHECKING imports, and covers ``__all__``."""
    exports = authwire._EXPORTS
    assert exports == _type_checking_imports()
    assert set(exports) == set(authwire.__all__) - {"__version__"}


def test_every_public_name_resolves_to_its_module_object() -> None:
    """Each name in ``__all__`` is the very object its module defines."""
    for name in authwire.__all__:
        value = getattr(authwire, name)
        if name != "__version__":
            module = importlib.import_module(authwire._EXPORTS[name])
            assert value is getattr(module, name), name
    assert set(authwire.__all__) <= set(dir(authwire))


def test_unknown_attribute_raises_attribute_error() -> None:
    """A name authwire does not export raises AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="NoSuchThing"):
        authwire.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_import_authwire_requests_loads_only_what_auth_needs() -> None:
    """``import authwire, authwire.requests`` loads no credential, cache, httpx or Session code."""
    loaded = _modules_after("import authwire, authwire.requests")
    assert "authwire.requests._auth" in loaded
    unwanted = {
        m
        for m in loaded
        if m.startswith(("authwire.credentials", "authwire.caches", "authwire._core.oauth2"))
        or m in {"httpx", "authwire.requests._session", "authwire.manager"}
    }
    assert unwanted == set()


def test_import_authwire_alone_loads_almost_nothing() -> None:
    """``import authwire`` loads its version and nothing else of authwire."""
    loaded = _modules_after("import authwire")
    assert {m for m in loaded if m.startswith("authwire")} == {"authwire", "authwire._version"}
    assert "requests" not in loaded
