"""`python -m forecasting.cli ...`: the same as the `provocast` command (used to start retrain processes)."""

from forecasting.cli import app

app(prog_name="provocast")
