"""Retraining on SQLite and PostgreSQL: candidates, the promotion rules, the lock, jobs.

Retrains here fit only climatology on the weapons group with a backtest from
2010 (settings any deployment can use), so each takes a second or two; the
code path is the one `provocast retrain` runs.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import RecordError, read_events_csv
from forecasting.domain.vocabulary import JobStatus
from forecasting.lifecycle.retraining import TrainingOptions, decide_promotion, retrain
from forecasting.settings import Settings
from forecasting.store import jobs, registry
from forecasting.store.db import write_transaction
from forecasting.store.retrain_lock import DatabaseLock, LockHeld
from forecasting.store.seeding import seed_store
from tests.conftest import install_artifact
from tests.fixtures import shipped_seeds_dir

FAST = {
    "training_models": "climatology",
    "training_groups": "weapons",
    "backtest_since": date(2010, 1, 1),
    "backtest_workers": 1,
}


def fast_settings(**overrides: object) -> Settings:
    return Settings(**{**FAST, **overrides})


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A migrated store holding the shipped seeds."""
    with write_transaction(sessions) as session:
        seed_store(session, shipped_seeds_dir())
    return sessions


def quiet(line: str) -> None:
    pass


def statuses(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        return {v.id: v.status for v in registry.list_versions(session)}


def test_the_first_retrain_is_promoted_because_nothing_is_active(store: sessionmaker[Session]) -> None:
    said: list[str] = []
    outcome = retrain(store, settings=fast_settings(), say=said.append)

    assert outcome.status == "promoted" and outcome.version is not None
    assert outcome.decision is not None and outcome.decision.reason == "there is no active version yet"
    assert statuses(store) == {outcome.version.id: "active"}
    version = outcome.version
    last_event = max(e.date for e in read_events_csv(shipped_seeds_dir() / "events.csv"))
    assert version.data_cutoff == last_event and version.default_model == "climatology"
    assert version.metrics["training"]["models"] == ["climatology"]
    assert version.metrics["training"]["groups"] == ["weapons"]
    assert version.metrics["training"]["backtest_since"] == "2010-01-01"
    assert said[0].startswith("holding the retrain lock")
    assert any(line.startswith("stored candidate") for line in said) and f"promoted {version.id}" in said


def test_same_data_and_settings_are_skipped_unless_forced_then_equal_skill_is_promoted(
    store: sessionmaker[Session],
) -> None:
    first = retrain(store, settings=fast_settings(), say=quiet)

    skipped = retrain(store, settings=fast_settings(), say=quiet)
    assert skipped.status == "skipped" and "nothing new to learn" in skipped.message
    assert len(statuses(store)) == 1

    forced = retrain(store, settings=fast_settings(), force=True, say=quiet)
    decision = forced.decision
    assert decision is not None and forced.status == "promoted"
    assert decision.candidate_log_loss == decision.active_log_loss  # the same seeds give the same backtest
    assert decision.compared_windows > 0 and "no worse, promoted" in decision.reason
    assert forced.previous_active == first.version.id
    assert statuses(store) == {first.version.id: "retired", forced.version.id: "active"}


def test_never_keeps_the_candidate_and_the_active_version(store: sessionmaker[Session]) -> None:
    first = retrain(store, settings=fast_settings(), say=quiet)
    kept = retrain(store, settings=fast_settings(), rule="never", force=True, say=quiet)

    assert kept.status == "candidate" and not kept.promoted
    assert statuses(store) == {first.version.id: "active", kept.version.id: "candidate"}


def test_auto_compares_with_the_full_model_set_on_shared_election_windows_and_always_overrides(
    store: sessionmaker[Session], trained_artifact: Path
) -> None:
    full = install_artifact(store, trained_artifact)
    data = json.loads(trained_artifact.read_text())

    auto = retrain(store, settings=fast_settings(), rule="auto", say=quiet)

    assert auto.version is not None and auto.decision is not None
    candidate_losses = auto.version.metrics["election_window_log_loss"]
    # The candidate's climatology forecasts are the full backtest's, window for window (same seeds, same data).
    full_climatology = {
        r["window_id"]: r["log_loss"]
        for r in data["backtest"]["forecasts"]
        if r["model"] == "climatology" and r["horizon"] == 30 and r["window_id"] in candidate_losses
    }
    assert candidate_losses == pytest.approx(full_climatology)
    shared = sorted(set(candidate_losses) & set(full.metrics["election_window_log_loss"]))
    assert auto.decision.compared_windows == len(shared) > 0
    new = sum(candidate_losses[w] for w in shared) / len(shared)
    old = sum(full.metrics["election_window_log_loss"][w] for w in shared) / len(shared)
    assert auto.decision.candidate_log_loss == pytest.approx(new)
    assert auto.decision.active_log_loss == pytest.approx(old)
    assert auto.promoted == (new <= old + 1e-9)
    if not auto.promoted:
        assert auto.status == "candidate" and statuses(store)[full.id] == "active"

    always = retrain(store, settings=fast_settings(), rule="always", force=True, say=quiet)
    assert always.promoted and always.decision is not None and always.decision.reason == "--promote always"
    with store() as session:
        assert registry.active_version_id(session) == always.version.id


def test_the_rule_promotes_no_worse_and_keeps_worse_candidates(trained_artifact: Path) -> None:
    data = json.loads(trained_artifact.read_text())
    metrics = registry.version_metrics(data)
    version = registry.ModelVersion(
        id="a",
        status="active",
        created_at=None,
        promoted_at=None,
        retired_at=None,
        data_cutoff=date(2026, 8, 20),
        data_hash="h",
        trained_at=None,
        default_model=data["default_model"],
        effect_model=data["effect_model"],
        metrics=metrics,
        artifact_sha256="s",
        artifact_bytes=1,
        job_id=None,
    )
    losses = metrics["election_window_log_loss"]
    worse = replace(
        version, id="b", metrics={**metrics, "election_window_log_loss": {w: v + 0.01 for w, v in losses.items()}}
    )
    better = replace(
        version, id="c", metrics={**metrics, "election_window_log_loss": {w: v - 0.01 for w, v in losses.items()}}
    )

    assert decide_promotion(version, version, "auto").promote
    assert decide_promotion(better, version, "auto").promote
    kept = decide_promotion(worse, version, "auto")
    assert not kept.promote and "worse, kept as a candidate" in kept.reason
    assert kept.candidate_log_loss == pytest.approx(kept.active_log_loss + 0.01)
    assert decide_promotion(worse, version, "always").promote
    assert not decide_promotion(better, version, "never").promote
    assert decide_promotion(worse, None, "auto").promote

    # No shared windows (another horizon): each version's own mean, from its skill table.
    elsewhere = replace(worse, metrics={**worse.metrics, "horizon_days": 90})
    fallback = decide_promotion(elsewhere, version, "auto")
    assert fallback.compared_windows == 0 and "own election windows" in fallback.reason
    assert fallback.promote  # the skill tables are equal, so it is no worse


def test_a_second_retrain_fails_fast_while_the_lock_is_held(store: sessionmaker[Session]) -> None:
    with DatabaseLock(store, ttl_seconds=30):
        with pytest.raises(LockHeld, match=r"another retrain is running: process \d+ on "):
            retrain(store, settings=fast_settings(), say=quiet)
    assert statuses(store) == {}
    assert retrain(store, settings=fast_settings(), say=quiet).promoted  # free again once released


def test_a_job_follows_the_retrain_and_records_its_outcome(store: sessionmaker[Session]) -> None:
    with write_transaction(store) as session:
        job = jobs.create_job(session, jobs.RETRAIN, {"promote": "auto"})

    outcome = retrain(store, settings=fast_settings(), job_id=job.id, say=quiet)

    with store() as session:
        done = jobs.get_job(session, job.id)
    assert done is not None and done.status == JobStatus.SUCCEEDED and done.exit_code == 0
    assert done.version_id == outcome.version.id and done.promoted is True
    assert done.output.splitlines() == outcome.lines and done.started_at is not None and done.finished_at is not None


def test_a_job_refused_by_the_lock_is_failed_with_exit_code_3(store: sessionmaker[Session]) -> None:
    with write_transaction(store) as session:
        job = jobs.create_job(session, jobs.RETRAIN, {"promote": "auto"})
    with DatabaseLock(store, ttl_seconds=30):
        with pytest.raises(LockHeld):
            retrain(store, settings=fast_settings(), job_id=job.id, say=quiet)
    with store() as session:
        done = jobs.get_job(session, job.id)
    assert done is not None and done.status == JobStatus.FAILED and done.exit_code == 3
    assert done.message is not None and done.message.startswith("another retrain is running")


def test_one_job_per_kind_may_be_in_flight(store: sessionmaker[Session]) -> None:
    with write_transaction(store) as session:
        jobs.create_job(session, jobs.RETRAIN, {})
    with pytest.raises(jobs.JobConflict):
        with write_transaction(store) as session:
            jobs.create_job(session, jobs.RETRAIN, {})


def test_bad_cutoffs_and_settings_are_refused_before_training(store: sessionmaker[Session]) -> None:
    with pytest.raises(RecordError, match="field 'cutoff': .* is in the future"):
        retrain(store, settings=fast_settings(), cutoff=date.today() + timedelta(days=1), say=quiet)
    with pytest.raises(RecordError, match="field 'cutoff': 2011-06-01 leaves too little history to backtest"):
        retrain(store, settings=fast_settings(), cutoff=date(2011, 6, 1), say=quiet)
    with pytest.raises(RecordError, match="field 'training_models': unknown name"):
        retrain(store, settings=fast_settings(training_models="climatology,crystal_ball"), say=quiet)
    with pytest.raises(RecordError, match="field 'promote'"):
        retrain(store, settings=fast_settings(), rule="sometimes", say=quiet)
    assert statuses(store) == {}


def test_a_past_cutoff_trains_on_the_history_known_then(store: sessionmaker[Session]) -> None:
    outcome = retrain(store, settings=fast_settings(), cutoff=date(2024, 1, 31), say=quiet)
    assert outcome.version is not None and outcome.version.data_cutoff == date(2024, 1, 31)
    with store() as session:
        version = registry.active_version(session)
    assert version is not None and registry.load_model_set(version).cutoff == date(2024, 1, 31)


def test_a_manual_event_after_coverage_moves_no_cutoff_and_no_forecast(store: sessionmaker[Session]) -> None:
    from forecasting.domain.records import EventRecord
    from forecasting.domain.vocabulary import CoverageSource, Origin
    from forecasting.store.live.coverage import history_through, set_coverage
    from forecasting.store.repository import add_event

    first = retrain(store, settings=fast_settings(), say=quiet)
    assert first.version is not None and first.version.data_cutoff == date(2026, 8, 20)
    late = EventRecord(
        id="2026-11-20-ballistic_missile",
        date=date(2026, 11, 20),
        event_type="ballistic_missile",
        weapons_test=True,
        count=1,
        description="One launch, added by hand.",
        source="a news report",
    )
    with write_transaction(store) as session:
        add_event(session, late, Origin.MANUAL)
        assert history_through(session) == date(2026, 8, 20)

    again = retrain(store, settings=fast_settings(), say=quiet)
    assert again.status == "skipped" and "nothing new to learn" in again.message
    forced = retrain(store, settings=fast_settings(), force=True, say=quiet)
    assert forced.version is not None and forced.version.data_cutoff == date(2026, 8, 20)
    assert forced.version.data_hash == first.version.data_hash  # the late event is kept, not learned from

    with pytest.raises(RecordError, match="after the history's coverage"):
        retrain(store, settings=fast_settings(), cutoff=date(2026, 11, 20), say=quiet)

    # A curator who knows the history is complete through 2026-11-30 moves the cutoff; now the event counts.
    with write_transaction(store) as session:
        set_coverage(session, CoverageSource.CURATOR, date(2026, 11, 30), "checked by hand", today=date(2026, 12, 2))
    moved = retrain(store, settings=fast_settings(), say=quiet)
    assert moved.version is not None and moved.version.data_cutoff == date(2026, 11, 30)
    assert moved.version.data_hash != first.version.data_hash


def test_a_store_no_source_vouches_for_is_not_trained(sessions: sessionmaker[Session]) -> None:
    from forecasting.domain.records import EventRecord
    from forecasting.domain.vocabulary import Origin
    from forecasting.lifecycle.retraining import RetrainFailed
    from forecasting.store.repository import add_event

    with write_transaction(sessions) as session:
        for record in read_events_csv(shipped_seeds_dir() / "events.csv"):
            add_event(session, EventRecord(**{**record.__dict__}), Origin.MANUAL)
    with pytest.raises(RetrainFailed, match="no coverage recorded"):
        retrain(sessions, settings=fast_settings(), say=quiet)


def test_training_models_decide_whether_the_window_side_runs() -> None:
    assert TrainingOptions().window_side
    assert not TrainingOptions(models=("climatology",)).window_side
    named = TrainingOptions(models=("climatology", "direct_window_no_election"))
    assert named.window_side and named.backtest_config().models == ("climatology",)
    assert named.describe()["models"] == ["climatology", "direct_window", "direct_window_no_election"]
