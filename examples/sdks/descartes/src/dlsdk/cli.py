"""The ``dlsdk`` command: ``dlsdk auth login|logout|status|token|explain`` from ``APP.cli``."""

from __future__ import annotations

import typer

from dlsdk.auth import APP

__all__ = ["cli", "main"]

cli = typer.Typer(name="dlsdk", help="The dlsdk command line.", no_args_is_help=True)
cli.add_typer(APP.cli, name="auth")


@cli.command()
def version() -> None:
    """Print the SDK's version."""
    typer.echo("dlsdk 0.1.0")


def main(argv: list[str] | None = None) -> None:
    """Run ``dlsdk``."""
    cli(args=argv, prog_name="dlsdk")
