"""The core imports only the standard library; ``import authwire`` pulls in no heavy dependency."""

from __future__ import annotations

import json
import subprocess
import sys

#: Never imported by ``authwire._core`` or by ``import authwire`` (DESIGN principle 1).
HTTP_LIBRARIES = ("requests", "httpx", "urllib3", "httpcore", "h11", "aiohttp")
#: Imported lazily, only by the feature that needs them.
HEAVY = ("jwt", "cryptography", "spnego", "gssapi", "krb5", "redis", "keyring", "typer", "rich")

_PROBE = """
import importlib, json, pkgutil, sys
before = set(sys.modules)
import authwire._core
for info in pkgutil.walk_packages(authwire._core.__path__, "authwire._core."):
    importlib.import_module(info.name)
core = sorted(set(sys.modules) - before)
import authwire
top = sorted(set(sys.modules) - before)
print(json.dumps({"core": core, "top": top}))
"""


def _fresh_import() -> dict[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, list[str]] = json.loads(out.stdout)
    return result


def _roots(modules: list[str]) -> set[str]:
    return {m.split(".", 1)[0] for m in modules}


def test_core_and_top_level_import_no_http_library() -> None:
    """In a fresh interpreter, all of authwire._core and authwire itself load no HTTP library."""
    loaded = _fresh_import()
    for stage in ("core", "top"):
        found = _roots(loaded[stage]) & set(HTTP_LIBRARIES)
        assert not found, f"{stage} imported {sorted(found)}"


def test_top_level_imports_no_heavy_dependency() -> None:
    """``import authwire`` leaves JWT, Kerberos, Redis, keyring and CLI libraries unimported."""
    found = _roots(_fresh_import()["top"]) & set(HEAVY)
    assert not found, f"import authwire imported {sorted(found)}"


def test_core_modules_import_only_stdlib_and_authwire() -> None:
    """Everything the core loads is the standard library, authwire itself, or sniffio."""
    roots = _roots(_fresh_import()["core"])
    foreign = {
        r for r in roots if r not in sys.stdlib_module_names and r not in ("authwire", "sniffio")
    }
    assert not foreign, f"the core imported {sorted(foreign)}"


def test_the_probe_can_see_an_http_library() -> None:
    """The probe itself works: a subprocess importing requests does report it."""
    probe = "import sys, requests; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
