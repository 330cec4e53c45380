"""The `provocast` command line. Each command group lives in its own module and registers here."""

from __future__ import annotations

import os

# The commands fit small regressions (thousands of rows, tens of columns): one BLAS thread is as fast, and many
# threads on a busy machine are much slower. Set before numpy loads; an explicit setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import typer  # noqa: E402

from forecasting.cli import (  # noqa: E402
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
