"""The `provocast` command line. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="provocast",
    help="Forecasts of North Korean weapons tests around elections.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
