"""``authwire.tls`` is transport-neutral: the integrations import it, never the other way round.

The requests adapters and httpx transports that present a client certificate live with
their integration (``authwire.requests._tls``, ``authwire.httpx._tls``). ``authwire.tls``
reaches them only from inside the three façade methods of ``ClientCertificate``, at call
time, so the module graph between ``authwire.tls`` and ``authwire.requests`` /
``authwire.httpx`` has no circle.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import authwire.tls

TLS_DIR = pathlib.Path(authwire.tls.__file__).parent

#: Names an ``authwire.tls`` module must not import at module level.
INTEGRATIONS = ("requests", "httpx", "urllib3", "httpcore", "authwire.requests", "authwire.httpx")

#: The only call-time reach into an integration: façade method -> module.
FACADES = {
    ("requests_adapter", "authwire.requests._tls"),
    ("httpx_transport", "authwire.httpx._tls"),
    ("httpx_async_transport", "authwire.httpx._tls"),
}


def _is_integration(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in INTEGRATIONS)


def _imports(tree: ast.AST) -> list[tuple[str | None, str]]:
    """(enclosing function or None, imported module) for every run-time import in ``tree``.

    Imports under ``if TYPE_CHECKING:`` are for annotations only and are skipped.
    """
    found: list[tuple[str | None, str]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Import):
                found.extend((function, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.append((function, child.module))
            visit(child, function)

    visit(tree, None)
    return found


def test_tls_modules_import_no_integration_at_module_level() -> None:
    """No module of ``authwire.tls`` imports requests, httpx or their authwire integrations."""
    reached: set[tuple[str | None, str]] = set()
    for path in sorted(TLS_DIR.glob("*.py")):
        for function, module in _imports(ast.parse(path.read_text(), str(path))):
            if _is_integration(module):
                assert function is not None, f"{path.name} imports {module} at module level"
                reached.add((function, module))
    assert reached == FACADES


def test_importing_tls_loads_no_http_library() -> None:
    """``import authwire.tls`` in a fresh interpreter loads neither HTTP library nor integration."""
    code = (
        "import sys, authwire.tls\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in "
        "('requests', 'httpx', 'urllib3', 'httpcore') or m.startswith(('authwire.requests', "
        "'authwire.httpx'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == []


def test_integration_tls_modules_import_first_in_a_fresh_interpreter() -> None:
    """The adapters' modules import on their own (no circle left to trip over), then tls."""
    for first in ("authwire.requests._tls", "authwire.httpx._tls"):
        code = f"import {first}, authwire.tls; authwire.tls.ClientCertificate"
        subprocess.run([sys.executable, "-c", code], check=True)
