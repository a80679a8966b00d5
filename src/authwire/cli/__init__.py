"""The ``authwire`` command line.

Commands: ``login``, ``logout``, ``token``, ``status``, ``request``, ``profile`` and
``explain``. Needs the ``cli`` extra (``pip install 'authwire[cli]'``). Exit codes are
``authwire.cli.ExitCode``; see ``docs/cli.md``.
"""

from __future__ import annotations

from authwire.cli._exit import ExitCode

__all__ = ["ExitCode", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the ``authwire`` command (the console script, and ``python -m authwire``).

    Args:
        argv: The arguments; ``None`` (default) reads ``sys.argv``.
    """
    try:
        from authwire.cli._app import app
    except ImportError as exc:  # pragma: no cover - an install without the extra
        import sys

        sys.stderr.write(f"authwire: the CLI needs {exc.name}: pip install 'authwire[cli]'\n")
        raise SystemExit(ExitCode.ERROR) from None
    import logging

    # Errors reach the user as one message each; without a handler, Python's last-resort
    # one would print authwire's warnings about the same failures too (-v shows the log).
    logging.getLogger("authwire").addHandler(logging.NullHandler())
    logging.getLogger("authwire").propagate = False
    app(args=argv, prog_name="authwire")
