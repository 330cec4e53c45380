"""The `provocast` command line. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

from forecasting.cli import (
    db_commands,
    events_commands,
    forecast_commands,
    ledger_commands,
    model_commands,
    sync_commands,
)

app = typer.Typer(
    name="provocast",
    help="Forecasts of North Korean weapons tests around elections.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

db_commands.register(app)
events_commands.register(app)
forecast_commands.register(app)
model_commands.register(app)
ledger_commands.register(app)
sync_commands.register(app)
