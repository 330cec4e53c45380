"""`provocast retrain`, `provocast schedule` and `provocast models ...`: the model registry from the shell.

The logic lives in `forecasting.lifecycle.retraining`, `forecasting.lifecycle.schedule` and
`forecasting.store.registry`; these commands parse options, call it and print.
Exit codes: 0 done, 1 store or training trouble, 2 bad input, 3 another
retrain holds the lock.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, ParamSpec, TypeVar

import typer
from sqlalchemy.orm import Session, sessionmaker

from forecasting.cli.db_commands import STORE_TROUBLE, fail, reports_errors
from forecasting.domain.records import parse_date
from forecasting.lifecycle.retraining import EXIT_LOCKED, RetrainFailed, retrain
from forecasting.lifecycle.schedule import cli_process, parse_cron, run_schedule
from forecasting.settings import get_settings
from forecasting.store import registry
from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.migrations.schema_check import require_current_schema
from forecasting.store.retrain_lock import RETRAIN_LOCK, DatabaseLock, LockHeld

models_app = typer.Typer(help="List, inspect and promote the stored model versions.", no_args_is_help=True)

P = ParamSpec("P")
T = TypeVar("T")


class PromoteOption(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def reports_model_errors(command: Callable[P, T]) -> Callable[P, T]:
    """The registry's and the lock's errors as `error: ...` lines, on top of the store's (reports_errors)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except LockHeld as error:
            fail(f"{error}; try again when it has finished", EXIT_LOCKED)
        except registry.UnknownVersion as error:
            fail(str(error))
        except (registry.RegistryError, RetrainFailed) as error:
            fail(str(error), STORE_TROUBLE)

    return reports_errors(wrapper)


@contextmanager
def store_factory() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured store, which must be at the current schema."""
    engine = create_store_engine(get_settings().database_url)
    try:
        require_current_schema(engine)
        yield create_session_factory(engine)
    finally:
        engine.dispose()


@reports_model_errors
def retrain_command(
    cutoff: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Train on the history up to this day (default: the coverage date, see `provocast coverage`).",
        ),
    ] = None,
    promote: Annotated[
        PromoteOption,
        typer.Option(help="auto: promote when no worse than the active version on election windows; always; never."),
    ] = PromoteOption.auto,
    force: Annotated[
        bool, typer.Option(help="Train even when the active version saw the same data and settings.")
    ] = False,
    if_no_active: Annotated[
        bool, typer.Option("--if-no-active", help="Do nothing when a version is already active (first start).")
    ] = False,
    job: Annotated[str | None, typer.Option(hidden=True, help="Job id to report to (set by the API).")] = None,
) -> None:
    """Fit every model on the store's history, store the result as a candidate version, promote it by rule."""
    chosen = parse_date(cutoff, "cutoff") if cutoff else None
    settings = get_settings()
    with store_factory() as factory:
        outcome = retrain(
            factory,
            settings=settings,
            cutoff=chosen,
            rule=promote.value,
            force=force,
            only_if_no_active=if_no_active,
            job_id=job,
            say=typer.echo,
        )
    typer.echo(f"done in {outcome.seconds:.1f} s")


@reports_model_errors
def schedule_command(
    cron: Annotated[str, typer.Option(help='Cron expression in UTC, e.g. "0 3 * * *" (03:00 every day).')],
    promote: Annotated[PromoteOption, typer.Option(help="Promotion rule for every run.")] = PromoteOption.auto,
    run_now: Annotated[bool, typer.Option("--run-now", help="Also run once at start-up.")] = False,
    no_sync: Annotated[
        bool, typer.Option("--no-sync", help="Retrain only (the history comes from imports); no sync step.")
    ] = False,
    max_runs: Annotated[int | None, typer.Option(min=1, hidden=True, help="Stop after N runs (for tests).")] = None,
) -> None:
    """Sync, then retrain when the history changed, on a cron schedule in this one process (exactly one scheduler)."""
    parse_cron(cron)
    command = ["retrain", "--promote", promote.value] if no_sync else ["cycle", "--promote", promote.value]
    typer.echo(f"scheduling `provocast {' '.join(command)}` at {cron!r} (UTC)")
    try:
        run_schedule(cron, cli_process(command), say=typer.echo, max_runs=max_runs, run_now=run_now)
    except KeyboardInterrupt:
        typer.echo("scheduler stopped")


@models_app.command("list")
@reports_model_errors
def list_command() -> None:
    """Every stored version, newest first, with its default model's backtest skill."""
    with store_factory() as factory, factory() as session:
        versions = registry.list_versions(session)
    if not versions:
        typer.echo("no model versions yet; run `provocast retrain`")
        return
    rows = [("version", "status", "cutoff", "default model", "BSS clim", "log loss (clim)", "windows", "created (UTC)")]
    for v in versions:
        skill = v.default_skill or {}
        rows.append(
            (
                v.id,
                v.status,
                v.data_cutoff.isoformat(),
                v.default_model,
                _signed(skill.get("brier_skill_vs_climatology")),
                f"{skill['log_loss']:.3f} ({skill['climatology_log_loss']:.3f})" if skill else "-",
                str(skill.get("election_windows", "-")),
                f"{v.created_at:%Y-%m-%d %H:%M}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


@models_app.command("show")
@reports_model_errors
def show_command(
    version: Annotated[str, typer.Argument(help="Version id (see `provocast models list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored metrics as JSON.")] = False,
) -> None:
    """One version: its status, data, default and effect models, and its backtest skill per model."""
    with store_factory() as factory, factory() as session:
        v = registry.get_version(session, version)
    if as_json:
        typer.echo(json.dumps({"id": v.id, "status": v.status, "metrics": v.metrics}, indent=2, default=str))
        return
    typer.echo(f"version        {v.id} ({v.status})")
    typer.echo(
        f"created        {v.created_at:%Y-%m-%d %H:%M:%S} UTC"
        + (f", promoted {v.promoted_at:%Y-%m-%d %H:%M:%S}" if v.promoted_at else "")
    )
    typer.echo(f"data           cutoff {v.data_cutoff}, hash {v.data_hash[:16]}")
    typer.echo(f"models         default {v.default_model}, election effect from {v.effect_model}")
    typer.echo(f"artifact       {v.artifact_bytes / 1e6:.1f} MB, sha256 {v.artifact_sha256}")
    horizon = v.metrics.get("horizon_days")
    typer.echo(f"backtest skill on election windows, {horizon} days ahead:")
    typer.echo(f"  {'model':<24}{'windows':>8}{'Brier':>8}{'BSS clim':>10}{'BSS ty':>9}{'log loss':>10}")
    for name, s in sorted(v.metrics.get("skill", {}).items(), key=lambda item: item[1]["log_loss"]):
        typer.echo(
            f"  {name:<24}{s['election_windows']:>8}{s['brier']:>8.3f}{_signed(s['brier_skill_vs_climatology']):>10}"
            f"{_signed(s['brier_skill_vs_trailing_year']):>9}{s['log_loss']:>10.3f}"
        )
    for evidence in v.metrics.get("election_effect", []):
        if "verdict" in evidence:
            typer.echo(f"election effect: {evidence['verdict']}")


@models_app.command("promote")
@reports_model_errors
def promote_command(
    version: Annotated[str, typer.Argument(help="Version id to make active (a retired one rolls back).")],
) -> None:
    """Make a stored version the active one now (under the retrain lock)."""
    settings = get_settings()
    with store_factory() as factory:
        with DatabaseLock(factory, RETRAIN_LOCK, settings.retrain_lock_seconds) as lock:
            with factory.begin() as session:
                lock.ensure_held(session)
                promotion = registry.promote(session, version)
    if not promotion.changed:
        typer.echo(f"{version} is already active")
        return
    previous = f" (retired {promotion.previous.id})" if promotion.previous else ""
    typer.echo(f"promoted {version}{previous}")


@models_app.command("prune")
@reports_model_errors
def prune_command(
    keep: Annotated[int, typer.Option("--keep", min=0, help="How many of the newest versions to keep.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")] = False,
) -> None:
    """Delete old model versions (about 7 MB each); never the active one, nor one the forecast ledger cites."""
    settings = get_settings()
    with store_factory() as factory:
        with DatabaseLock(factory, RETRAIN_LOCK, settings.retrain_lock_seconds) as lock:
            with factory.begin() as session:
                lock.ensure_held(session)
                doomed = registry.prune_versions(session, keep, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for version in doomed:
        typer.echo(f"{verb} {version.id} ({version.status}, {version.artifact_bytes / 1e6:.1f} MB)")
    typer.echo(f"{verb} {len(doomed)} versions; kept the {keep} newest, the active one and those the ledger cites")


def register(app: typer.Typer) -> None:
    app.command("retrain")(retrain_command)
    app.command("schedule")(schedule_command)
    app.add_typer(models_app, name="models")
