"""`provocast ledger`: the track record of published forecasts; `ledger score` and `ledger record`.

The logic lives in `forecasting.lifecycle.ledger`; these commands open the store, call
it and print. The ledger is append-only: no command here (or anywhere) edits
or deletes an entry.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from forecasting.cli.db_commands import fail
from forecasting.cli.model_commands import reports_model_errors, store_factory
from forecasting.lifecycle import ledger
from forecasting.settings import get_settings
from forecasting.store import registry

ledger_app = typer.Typer(
    help="The track record: every published election forecast, scored once its window has closed.",
    invoke_without_command=True,
)


@ledger_app.callback()
@reports_model_errors
def show_command(
    context: typer.Context,
    version: Annotated[str | None, typer.Option("--version", help="Only this model version.")] = None,
    election: Annotated[str | None, typer.Option("--election", help="Only this election id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries and summaries as JSON.")] = False,
) -> None:
    """Show the track record to date: each recorded forecast and, per model version, how the scored ones did."""
    if context.invoked_subcommand is not None:
        return
    with store_factory() as factory, factory() as session:
        record = ledger.track_record(session, version_id=version, election_id=election)
    if as_json:
        typer.echo(json.dumps(track_record_as_dict(record), indent=2, default=str))
        return
    typer.echo(describe_track_record(record))


@ledger_app.command("score")
@reports_model_errors
def score_command() -> None:
    """Score every recorded forecast whose window the store's history now covers (each is scored once)."""
    with store_factory() as factory:
        result = ledger.score_pending(factory)
    typer.echo(result.describe())
    for entry in result.scored:
        typer.echo(f"  {entry.election_id} ({entry.version_id}): {entry.in_words()}")


@ledger_app.command("record")
@reports_model_errors
def record_command() -> None:
    """Record the active version's forecasts for every open election window (what the service does on load)."""
    from forecasting.serving.forecaster import Forecaster

    with store_factory() as factory:
        with factory() as session:
            version = registry.active_version(session)
        if version is None:
            fail("no active model version yet: run `provocast retrain` first", 1)
        forecaster = Forecaster(registry.load_model_set(version), version=version.id)
        window = get_settings().default_window
        recorded, scored = ledger.record_and_score(
            factory, forecaster, days_before=window.days_before, days_after=window.days_after
        )
    assert recorded is not None
    typer.echo(recorded.describe())
    for skipped in recorded.skipped:
        typer.echo(f"  not recorded: {skipped.election_id}: {skipped.reason}")
    typer.echo(scored.describe())


def describe_track_record(record: ledger.TrackRecord) -> str:
    lines = [f"Forecast ledger (store history through {record.history_end or 'no events'})"]
    if not record.entries:
        lines.append("no forecasts recorded yet: they are recorded when a model version becomes active")
        return "\n".join(lines)
    for summary in record.versions:
        lines.append(f"version {summary.version_id}: {summary.in_words()}")
        if summary.scored:
            lines.append(
                f"  mean log loss {summary.log_loss:.3f} (climatology {summary.climatology_log_loss:.3f}); "
                f"Brier skill vs climatology {summary.brier_skill_vs_climatology:+.2f}; "
                f"coverage 80% {summary.coverage_80:.0%}, 95% {summary.coverage_95:.0%}"
            )
    rows = [("election", "version", "window", "P(any)", "clim", "expected", "80%", "95%", "observed", "Brier (clim)")]
    for e in record.entries:
        rows.append(
            (
                e.election_id,
                e.version_id,
                f"{e.window_start}..{e.window_end}",
                f"{e.probability_any:.0%}",
                f"{e.climatology_probability_any:.0%}",
                f"{e.expected_count:.1f}",
                f"{e.lower_80}-{e.upper_80}",
                f"{e.lower_95}-{e.upper_95}",
                "open" if e.observed_count is None else str(e.observed_count),
                "-" if e.brier is None else f"{e.brier:.3f} ({e.climatology_brier:.3f})",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines.append("")
    lines.extend("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)
    return "\n".join(lines)


def track_record_as_dict(record: ledger.TrackRecord) -> dict[str, Any]:
    return {
        "history_end": record.history_end,
        "versions": [{**s.__dict__, "summary": s.in_words()} for s in record.versions],
        "entries": [{**e.__dict__, "observed_any": e.observed_any, "summary": e.in_words()} for e in record.entries],
    }


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
