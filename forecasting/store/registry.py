"""The model registry: trained model sets stored as versions in the database.

Each version is a row of `model_versions`: the model set as JSON text (the
`forecasting.serving.model_set.dumps` artifact, never pickle) with its sha256, the data
cutoff and data hash, the default and effect models, the metrics a client or
the promotion rule reads (skill table, backtest summary, election-effect
evidence), and a status: `candidate`, `active` or `retired`. A partial unique
index lets at most one version be active; `promote` retires the old one and
activates the new one in the caller's transaction, so readers see one or the
other, never both or neither.

Like the store's repository, these are plain functions taking a Session; the
caller owns the transaction (`forecasting.store.db.write_transaction`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from forecasting.domain.vocabulary import VersionStatus
from forecasting.evaluation.report import ALL_ELECTIONS, BacktestReport, config_to_dict
from forecasting.serving.model_set import ARTIFACT_FORMAT, TrainedModelSet, loads
from forecasting.store.columns import as_dataclass, utc_now
from forecasting.store.tables import LedgerEntryRow, ModelVersionRow


class RegistryError(RuntimeError):
    """Something the registry refuses to do; the message says what and why."""


class UnknownVersion(RegistryError, LookupError):
    def __init__(self, version_id: str):
        super().__init__(f"no model version {version_id!r} in the registry")
        self.version_id = version_id


class CorruptArtifact(RegistryError):
    """A stored artifact that fails its checksum or cannot be read back: it is never used."""

    def __init__(self, version_id: str, reason: str):
        super().__init__(f"model version {version_id} is refused: {reason}")
        self.version_id = version_id
        self.reason = reason


class PromotionConflict(RegistryError):
    """Another version was promoted at the same moment; this promotion was rolled back."""


@dataclass(frozen=True)
class ModelVersion:
    id: str
    status: VersionStatus
    created_at: dt.datetime
    promoted_at: dt.datetime | None
    retired_at: dt.datetime | None
    data_cutoff: dt.date
    data_hash: str
    trained_at: dt.datetime
    default_model: str
    effect_model: str
    metrics: dict[str, Any]
    artifact_sha256: str
    artifact_bytes: int
    job_id: str | None
    # The JSON text; only read from the store when asked for (it is megabytes).
    artifact: str | None = field(default=None, repr=False, compare=False)

    @property
    def default_skill(self) -> dict[str, Any] | None:
        skill: dict[str, Any] | None = self.metrics.get("skill", {}).get(self.default_model)
        return skill


def _version(row: ModelVersionRow, with_artifact: bool) -> ModelVersion:
    # Reading `row.artifact` would load the deferred column: only when it was asked for.
    return as_dataclass(ModelVersion, row, artifact=row.artifact if with_artifact else None)


def artifact_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reading ---------------------------------------------------------------------


def list_versions(
    session: Session, status: VersionStatus | None = None, limit: int | None = None
) -> list[ModelVersion]:
    """Versions newest first, without their artifacts."""
    query = select(ModelVersionRow).order_by(ModelVersionRow.created_at.desc(), ModelVersionRow.id.desc())
    if status is not None:
        query = query.where(ModelVersionRow.status == status)
    return [_version(row, False) for row in session.scalars(query.limit(limit))]


def get_version(session: Session, version_id: str, with_artifact: bool = False) -> ModelVersion:
    query = select(ModelVersionRow).where(ModelVersionRow.id == version_id)
    if with_artifact:
        query = query.options(undefer(ModelVersionRow.artifact))
    row = session.scalars(query).one_or_none()
    if row is None:
        raise UnknownVersion(version_id)
    return _version(row, with_artifact)


def active_version_id(session: Session) -> str | None:
    """The active version's id: a cheap query the service polls."""
    return session.scalar(select(ModelVersionRow.id).where(ModelVersionRow.status == VersionStatus.ACTIVE))


def prune_versions(session: Session, keep: int, dry_run: bool = False) -> list[ModelVersion]:
    """Delete all but the `keep` newest versions; never the active one, nor one the forecast ledger cites.

    Returns the versions deleted (or, in a dry run, that would be). Run under the retrain lock.
    """
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    versions = list_versions(session)
    cited = set(session.scalars(select(LedgerEntryRow.version_id).distinct()))
    doomed = [v for v in versions[keep:] if v.status != VersionStatus.ACTIVE and v.id not in cited]
    if doomed and not dry_run:
        session.execute(delete(ModelVersionRow).where(ModelVersionRow.id.in_([v.id for v in doomed])))
    return doomed


def active_version(session: Session, with_artifact: bool = True) -> ModelVersion | None:
    """The active version (with its artifact, ready for `load_model_set`), or None on a new store."""
    version_id = active_version_id(session)
    return None if version_id is None else get_version(session, version_id, with_artifact)


def load_model_set(version: ModelVersion) -> TrainedModelSet:
    """The trained model set of a version read with its artifact; CorruptArtifact if it fails any check."""
    text = version.artifact
    if text is None:
        raise RegistryError(
            f"model version {version.id} was read without its artifact; read it with with_artifact=True"
        )
    computed = artifact_sha256(text)
    if computed != version.artifact_sha256:
        raise CorruptArtifact(
            version.id, f"the artifact's sha256 is {computed[:12]}..., not the stored {version.artifact_sha256[:12]}..."
        )
    try:
        model_set = loads(text)
    except Exception as error:  # any failure to rebuild the models means the artifact cannot be trusted
        raise CorruptArtifact(version.id, f"the artifact cannot be read: {type(error).__name__}: {error}") from None
    if model_set.cutoff != version.data_cutoff or model_set.data_hash != version.data_hash:
        raise CorruptArtifact(version.id, "the artifact's data cutoff or data hash differs from the registry row")
    return model_set


# --- writing ---------------------------------------------------------------------


def save_artifact(
    session: Session,
    text: str,
    *,
    training: dict[str, Any] | None = None,
    job_id: str | None = None,
) -> ModelVersion:
    """Store the JSON text of a model set (as `dumps` wrote it) as a new candidate version."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise RegistryError(f"the artifact is not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") != ARTIFACT_FORMAT:
        raise RegistryError(f"the artifact is not a Provocast model set (format {ARTIFACT_FORMAT!r} expected)")
    now = utc_now()
    digest = artifact_sha256(text)
    row = ModelVersionRow(
        id=f"{now:%Y%m%d-%H%M%S}-{digest[:8]}",
        status=VersionStatus.CANDIDATE,
        created_at=now,
        data_cutoff=dt.date.fromisoformat(data["cutoff"]),
        data_hash=data["data_hash"],
        trained_at=dt.datetime.fromisoformat(data["trained_at"]),
        default_model=data["default_model"],
        effect_model=data["effect_model"],
        metrics=version_metrics(data, training),
        artifact=text,
        artifact_sha256=digest,
        artifact_bytes=len(text.encode("utf-8")),
        job_id=job_id,
    )
    base_id, copy = row.id, 1
    while session.get(ModelVersionRow, row.id) is not None:  # the same artifact stored twice within a second
        copy += 1
        row.id = f"{base_id}-{copy}"
    session.add(row)
    session.flush()
    return _version(row, False)


@dataclass(frozen=True)
class Promotion:
    version: ModelVersion  # now active
    previous: ModelVersion | None  # the version it replaced (now retired), None on a new store
    changed: bool  # False when the version was already active


def promote(session: Session, version_id: str) -> Promotion:
    """Make a version active and retire the active one, in the caller's transaction.

    The artifact's checksum is checked first, so a corrupted version cannot
    become active. A retired version can be promoted again (a rollback).
    """
    target = get_version(session, version_id, with_artifact=True)
    if target.status == VersionStatus.ACTIVE:
        return Promotion(get_version(session, version_id), None, changed=False)
    if artifact_sha256(target.artifact or "") != target.artifact_sha256:
        raise CorruptArtifact(
            version_id, "the artifact's sha256 does not match its registry row; it cannot be promoted"
        )
    previous_id = active_version_id(session)
    now = utc_now()
    try:
        # Retire first: the unique index allows only one active row at any moment.
        session.execute(
            update(ModelVersionRow)
            .where(ModelVersionRow.status == VersionStatus.ACTIVE)
            .values(status=VersionStatus.RETIRED, retired_at=now)
        )
        session.execute(
            update(ModelVersionRow)
            .where(ModelVersionRow.id == version_id)
            .values(status=VersionStatus.ACTIVE, promoted_at=now, retired_at=None)
        )
        session.flush()
    except IntegrityError:
        raise PromotionConflict(f"another version was promoted while {version_id} was; nothing changed") from None
    session.expire_all()
    previous = None if previous_id is None else get_version(session, previous_id)
    return Promotion(get_version(session, version_id), previous, changed=True)


# --- metrics -----------------------------------------------------------------------


def version_metrics(data: dict[str, Any], training: dict[str, Any] | None = None) -> dict[str, Any]:
    """What is kept beside the artifact: skill, backtest summary, election-effect evidence, training settings."""
    report = BacktestReport.from_dict(data["backtest"]) if data.get("backtest") else None
    skill = data.get("skill") or {}
    default_model = data["default_model"]
    horizons = report.config.horizons if report else ()
    horizon = skill.get(default_model, {}).get("horizon_days") or (horizons[0] if horizons else None)
    election_windows = {w.id for w in report.windows if w.election_id is not None} if report else set()
    return {
        "horizon_days": horizon,
        "skill": skill,
        "backtest_summary": [row.to_dict() for row in report.summary] if report else [],
        # Keys as the JSON has them (text), so the metrics read the same before and after storing.
        "best_model_by_horizon": {str(h): m for h, m in report.best_model_by_horizon.items()} if report else {},
        "election_effect": [row.to_dict() for row in report.election_effect] if report else [],
        # The default model's log loss per election window: what the promotion rule compares.
        "election_window_log_loss": {
            row.window_id: row.log_loss
            for row in (report.forecasts if report else ())
            if row.model == default_model and row.horizon == horizon and row.window_id in election_windows
        },
        "failures": data.get("failures", []),
        "timings": data.get("timings", {}),
        "training": {
            "groups": sorted(data.get("models", {})),
            "backtest": config_to_dict(report.config) if report else {},
            **(training or {}),
        },
    }


def election_log_loss(version: ModelVersion) -> float | None:
    """The default model's mean backtest log loss on election windows (None if it has none)."""
    skill = version.default_skill
    if skill is not None:
        return float(skill["log_loss"])
    for row in version.metrics.get("backtest_summary", []):
        if row["model"] == version.default_model and row["group"] == ALL_ELECTIONS:
            return float(row["log_loss"])
    return None
