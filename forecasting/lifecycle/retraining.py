"""Retraining: fit a new model set on the store's history, store it as a candidate, promote it by rule.

`retrain` is what `provocast retrain`, `provocast schedule` and the API's retrain jobs run. It holds the
retrain lock (`forecasting.store.retrain_lock`) for its whole run, so a second retrain fails fast. Its writes
are two short transactions: the candidate row (all or nothing), then the promotion (old active version retired,
new one activated, together). Killed anywhere, it leaves the active version as it was and no half-written row.

Promotion rules: `always`, `never`, or `auto`: promote when the candidate is
no worse than the active version by the backtest log loss of their default
models on election windows (the windows both backtests scored, so a new
election in the data does not tilt the comparison).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import RecordError
from forecasting.domain.vocabulary import EVENT_GROUPS, JobStatus
from forecasting.evaluation.backtest import DEFAULT_SINCE, BacktestConfig
from forecasting.lifecycle import ledger
from forecasting.lifecycle.metrics import RetrainResult, log, observed_retrain
from forecasting.lifecycle.training import (
    DEFAULT_TRAINING_HORIZON,
    choose_cutoff,
    history_hash,
    train_model_set,
)
from forecasting.lifecycle.training import (
    RetrainFailed as RetrainFailed,  # raised here too; callers import it from this module
)
from forecasting.models.catalogue import COMPONENT_MODELS
from forecasting.models.window.direct import WINDOW_MODELS
from forecasting.serving.forecaster import Forecaster
from forecasting.serving.model_set import TrainedModelSet, dumps
from forecasting.settings import Settings
from forecasting.store import jobs, registry
from forecasting.store.db import write_transaction
from forecasting.store.live.coverage import history_through
from forecasting.store.repository import load_history
from forecasting.store.retrain_lock import RETRAIN_LOCK, DatabaseLock, LockHeld

PROMOTE_RULES = ("auto", "always", "never")
# "No worse" allows for float noise in the stored means.
LOG_LOSS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class TrainingOptions:
    """Which models and groups a retrain fits, and where its backtest starts (from settings)."""

    models: tuple[str, ...] | None = None  # None: every model, the direct window models included
    groups: tuple[str, ...] | None = None  # None: every event group
    since: date | None = None
    workers: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainingOptions:
        return cls(
            models=_names(settings.training_models, [*COMPONENT_MODELS, *WINDOW_MODELS], "training_models"),
            groups=_names(settings.training_groups, EVENT_GROUPS, "training_groups"),
            since=settings.backtest_since,
            workers=settings.backtest_workers,
        )

    def backtest_config(self) -> BacktestConfig:
        config = BacktestConfig(horizons=(DEFAULT_TRAINING_HORIZON,), workers=self.workers)
        if self.models is not None:
            config = replace(config, models=tuple(name for name in self.models if name in COMPONENT_MODELS))
        if self.since is not None:
            config = replace(config, since=self.since)
        return config

    @property
    def window_side(self) -> bool:
        """Whether the direct window models, the dense backtest and the default rule run (a narrower model list
        runs them only if it names a window model)."""
        return self.models is None or any(name in WINDOW_MODELS for name in self.models)

    def group_names(self) -> tuple[str, ...]:
        return self.groups if self.groups is not None else tuple(EVENT_GROUPS)

    def describe(self) -> dict[str, Any]:
        """What decides the trained result besides the data (stored with each version)."""
        config = self.backtest_config()
        return {
            "models": list(config.models) + (list(WINDOW_MODELS) if self.window_side else []),
            "groups": sorted(self.group_names()),
            "backtest_since": (self.since or DEFAULT_SINCE).isoformat(),
            "horizon_days": config.horizons[0],
        }


def _names(text: str, known: Collection[str], setting: str) -> tuple[str, ...] | None:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in known]
    if unknown:
        raise RecordError(setting, f"unknown name(s) {', '.join(unknown)}; expected some of: {', '.join(known)}")
    return names or None


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    candidate_log_loss: float | None = None
    active_log_loss: float | None = None
    compared_windows: int = 0


def decide_promotion(
    candidate: registry.ModelVersion, active: registry.ModelVersion | None, rule: str
) -> PromotionDecision:
    if rule == "never":
        return PromotionDecision(False, "--promote never: kept as a candidate")
    if rule == "always":
        return PromotionDecision(True, "--promote always")
    if active is None:
        return PromotionDecision(True, "there is no active version yet")
    mine = candidate.metrics.get("election_window_log_loss", {})
    theirs = active.metrics.get("election_window_log_loss", {})
    same_horizon = candidate.metrics.get("horizon_days") == active.metrics.get("horizon_days")
    common = sorted(set(mine) & set(theirs)) if same_horizon else []
    if common:
        new = sum(mine[w] for w in common) / len(common)
        old = sum(theirs[w] for w in common) / len(common)
        basis = f"the {len(common)} election windows both backtests scored"
    else:
        new, old = registry.election_log_loss(candidate), registry.election_log_loss(active)
        basis = "each version's own election windows (their backtests share none)"
        if new is None or old is None:
            return PromotionDecision(
                False, "the backtests cannot be compared (no election-window log loss); kept as a candidate"
            )
    better = new <= old + LOG_LOSS_TOLERANCE
    verdict = "no worse, promoted" if better else "worse, kept as a candidate"
    reason = (
        f"election-window log loss {new:.4f} ({candidate.default_model}) against the active version's "
        f"{old:.4f} ({active.default_model}) on {basis}: {verdict}"
    )
    return PromotionDecision(better, reason, new, old, len(common))


@dataclass
class RetrainOutcome:
    status: RetrainResult  # promoted, candidate or skipped
    message: str
    version: registry.ModelVersion | None = None
    previous_active: str | None = None
    decision: PromotionDecision | None = None
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)
    model_set: TrainedModelSet | None = field(default=None, repr=False)  # the promoted one, for the ledger

    @property
    def promoted(self) -> bool:
        return self.status == RetrainResult.PROMOTED


# Exit codes of `provocast retrain` (and of a retrain job's process).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, LockHeld):
        return EXIT_LOCKED
    if isinstance(error, RecordError):
        return EXIT_BAD_INPUT
    return EXIT_FAILED


@observed_retrain
def retrain(
    factory: sessionmaker[Session],
    *,
    settings: Settings,
    cutoff: date | None = None,
    rule: str = "auto",
    force: bool = False,
    only_if_no_active: bool = False,
    job_id: str | None = None,
    say: Callable[[str], None] = print,
) -> RetrainOutcome:
    """Train, store a candidate and promote it by rule, holding the retrain lock throughout.

    Raises LockHeld (another retrain runs), RecordError (bad cutoff or
    settings), RetrainFailed (training failed), or the store's errors. With a
    job id, the job row follows along and is finished whatever happens.
    """

    def fail(error: BaseException) -> None:
        if job_id is not None:
            _finish_job(factory, job_id, JobStatus.FAILED, exit_code_for(error), _describe_failure(error))

    try:
        if rule not in PROMOTE_RULES:
            raise RecordError("promote", f"{rule!r} is not one of {', '.join(PROMOTE_RULES)}")
        options = TrainingOptions.from_settings(settings)
        if cutoff is not None and cutoff > date.today():
            raise RecordError("cutoff", f"{cutoff} is in the future")
        lock = DatabaseLock(factory, RETRAIN_LOCK, settings.retrain_lock_seconds, job_id=job_id)
        lock.acquire()
    except BaseException as error:
        fail(error)
        raise
    try:
        try:
            outcome = _retrain(factory, lock, options, cutoff, rule, force, only_if_no_active, job_id, say)
            _update_ledger(factory, settings, outcome)
        except BaseException as error:
            fail(error)
            raise
        if job_id is not None:
            # Finished while the lock is still ours: a running job without the lock reads as a dead one.
            version = outcome.version.id if outcome.version else None
            _finish_job(factory, job_id, JobStatus.SUCCEEDED, EXIT_OK, outcome.message, version, outcome.promoted)
        return outcome
    finally:
        lock.release()


def _update_ledger(factory: sessionmaker[Session], settings: Settings, outcome: RetrainOutcome) -> None:
    """Record a promoted version's forecasts in the ledger and score what has closed; never fails the retrain.

    Logged, not printed (see `provocast ledger`): the retrain's own report ends with what it did to the registry.
    """
    try:
        forecaster, promoted_on = None, None
        if outcome.promoted and outcome.model_set is not None and outcome.version is not None:
            forecaster = Forecaster(outcome.model_set, version=outcome.version.id)
            promoted = outcome.version.promoted_at
            promoted_on = promoted.date() if promoted is not None else date.today()
        recorded, scored = ledger.record_and_score(
            factory,
            forecaster,
            days_before=settings.default_days_before,
            days_after=settings.default_days_after,
            promoted_on=promoted_on,
        )
    except Exception as error:  # the version is promoted whatever happens here; the service records it on load
        log.warning("forecast ledger not updated: %s: %s", type(error).__name__, error)
        return
    log.info("%s%s", f"{recorded.describe()}; " if recorded else "", scored.describe())


def _describe_failure(error: BaseException) -> str:
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        return "interrupted; the active version is unchanged"
    text = str(error) or type(error).__name__
    return text if isinstance(error, (LockHeld, RecordError, RetrainFailed)) else f"{type(error).__name__}: {text}"


def _finish_job(
    factory: sessionmaker[Session],
    job_id: str,
    status: JobStatus,
    code: int,
    message: str,
    version_id: str | None = None,
    promoted: bool | None = None,
) -> None:
    try:
        with write_transaction(factory) as session:
            jobs.finish_job(
                session, job_id, status, exit_code=code, message=message, version_id=version_id, promoted=promoted
            )
    except SQLAlchemyError:
        pass  # the store is gone; the job is settled as failed when it is next read


def _retrain(
    factory: sessionmaker[Session],
    lock: DatabaseLock,
    options: TrainingOptions,
    cutoff: date | None,
    rule: str,
    force: bool,
    only_if_no_active: bool,
    job_id: str | None,
    say: Callable[[str], None],
) -> RetrainOutcome:
    started = time.perf_counter()
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        say(line)
        if job_id is not None:
            try:
                with write_transaction(factory) as session:
                    jobs.append_output(session, job_id, line)
            except SQLAlchemyError:
                pass  # progress is best effort; the outcome is written at the end

    if job_id is not None:
        with write_transaction(factory) as session:
            jobs.mark_running(session, job_id)
    report(f"holding the retrain lock ({lock.owner})")

    def skipped(message: str, active_id: str) -> RetrainOutcome:
        report(message)
        return RetrainOutcome(
            RetrainResult.SKIPPED,
            message,
            previous_active=active_id,
            seconds=time.perf_counter() - started,
            lines=lines,
        )

    with factory() as session:
        active = registry.active_version(session, with_artifact=False)
    if only_if_no_active and active is not None:
        return skipped(f"version {active.id} is active; nothing to train (--if-no-active)", active.id)

    with factory() as session:
        history = load_history(session)
        covered = history_through(session)
    if history.events.empty:
        raise RetrainFailed("the store holds no events; run `provocast seed` first")
    chosen_cutoff = choose_cutoff(cutoff, covered, options.since or DEFAULT_SINCE)
    data_hash = history_hash(history, chosen_cutoff)
    report(f"history: {len(history.events)} events, cutoff {chosen_cutoff}, data hash {data_hash[:12]}")
    if active is not None and not force and _same_training(active, data_hash, options):
        return skipped(
            f"the active version {active.id} was trained on the same data with the same settings; "
            "nothing new to learn (use --force to train anyway)",
            active.id,
        )

    try:
        model_set = train_model_set(
            history,
            chosen_cutoff,
            groups=options.group_names(),
            backtest_config=options.backtest_config(),
            window_side=options.window_side,
            progress=report,
        )
    except (ValueError, RuntimeError) as error:
        raise RetrainFailed(f"training at cutoff {chosen_cutoff} failed: {error}") from None
    fits_failed = len(model_set.failures)
    report(
        f"trained in {time.perf_counter() - started:.1f} s: default model {model_set.default_model}, "
        f"effect model {model_set.effect_model}"
        + (f"; {fits_failed} fits left out (too few events)" if fits_failed else "")
    )

    artifact = dumps(model_set)  # seconds for megabytes: done before the transaction, not inside it

    with write_transaction(factory) as session:
        lock.ensure_held(session)
        candidate = registry.save_artifact(session, artifact, training=options.describe(), job_id=job_id)
    report(
        f"stored candidate {candidate.id} ({candidate.artifact_bytes / 1e6:.1f} MB, sha256 {candidate.artifact_sha256[:12]})"
    )

    with factory() as session:
        active = registry.active_version(session, with_artifact=False)
    decision = decide_promotion(candidate, active, rule)
    report(f"promotion ({rule}): {decision.reason}")
    if not decision.promote:
        return RetrainOutcome(
            RetrainResult.CANDIDATE,
            f"stored {candidate.id} as a candidate; {active.id if active else 'no version'} stays active",
            candidate,
            active.id if active else None,
            decision,
            time.perf_counter() - started,
            lines,
        )

    with write_transaction(factory) as session:
        lock.ensure_held(session)
        promotion = registry.promote(session, candidate.id)
    previous = promotion.previous.id if promotion.previous else None
    message = f"promoted {candidate.id}" + (f" (retired {previous})" if previous else "")
    report(message)
    return RetrainOutcome(
        RetrainResult.PROMOTED,
        message,
        promotion.version,
        previous,
        decision,
        time.perf_counter() - started,
        lines,
        model_set=model_set,
    )


def _same_training(active: registry.ModelVersion, data_hash: str, options: TrainingOptions) -> bool:
    training = active.metrics.get("training", {})
    described = options.describe()
    return active.data_hash == data_hash and all(training.get(key) == value for key, value in described.items())
