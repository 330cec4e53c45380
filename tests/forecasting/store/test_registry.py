"""The model registry on SQLite and PostgreSQL: versions, exactly one active, atomic promotion, refused artifacts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.vocabulary import VersionStatus
from forecasting.serving.model_set import ARTIFACT_FORMAT, dumps
from forecasting.store import registry
from forecasting.store.db import write_transaction
from forecasting.store.tables import ModelVersionRow
from tests.conftest import install_artifact


@pytest.fixture
def artifact_text(trained_artifact: Path) -> str:
    return trained_artifact.read_text(encoding="utf-8")


def test_a_new_store_has_no_versions(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert registry.list_versions(session) == []
        assert registry.active_version(session) is None
        assert registry.active_version_id(session) is None


def test_a_saved_artifact_is_a_candidate_with_its_metrics(sessions: sessionmaker[Session], artifact_text: str) -> None:
    data = json.loads(artifact_text)
    with write_transaction(sessions) as session:
        saved = registry.save_artifact(session, artifact_text)

    with sessions() as session:
        version = registry.get_version(session, saved.id)
        listed = registry.list_versions(session)
    assert version.status == VersionStatus.CANDIDATE
    assert version.artifact is None  # megabytes are read only when asked for
    assert version.data_cutoff.isoformat() == data["cutoff"] and version.data_hash == data["data_hash"]
    assert version.default_model == data["default_model"] and version.effect_model == data["effect_model"]
    assert version.artifact_sha256 == registry.artifact_sha256(artifact_text)
    assert version.artifact_bytes == len(artifact_text.encode())
    assert version.id.endswith(version.artifact_sha256[:8])
    assert version.metrics["skill"] == data["skill"]
    assert version.metrics["backtest_summary"] == data["backtest"]["summary"]
    assert version.metrics["election_effect"] == data["backtest"]["election_effect"]
    per_window = version.metrics["election_window_log_loss"]
    assert len(per_window) == data["skill"][data["default_model"]]["election_windows"]
    assert sum(per_window.values()) / len(per_window) == pytest.approx(
        data["skill"][data["default_model"]]["log_loss"], abs=1e-5
    )
    assert [v.id for v in listed] == [saved.id]
    with sessions() as session:
        assert registry.active_version(session) is None


def test_promotion_retires_the_active_version_in_the_same_transaction(
    sessions: sessionmaker[Session], trained_artifact: Path
) -> None:
    first = install_artifact(sessions, trained_artifact)
    second = install_artifact(sessions, trained_artifact, promote=False)
    assert first.status == VersionStatus.ACTIVE and second.status == VersionStatus.CANDIDATE
    assert first.id != second.id

    with write_transaction(sessions) as session:
        promotion = registry.promote(session, second.id)
    assert promotion.changed and promotion.previous is not None and promotion.previous.id == first.id

    with sessions() as session:
        statuses = {v.id: v.status for v in registry.list_versions(session)}
        assert registry.active_version_id(session) == second.id
    assert statuses == {first.id: VersionStatus.RETIRED, second.id: VersionStatus.ACTIVE}

    with write_transaction(sessions) as session:  # rolling back to the retired version
        back = registry.promote(session, first.id)
        again = registry.promote(session, first.id)
    assert back.previous is not None and back.previous.id == second.id
    assert not again.changed
    with sessions() as session:
        assert [v.id for v in registry.list_versions(session, status=VersionStatus.ACTIVE)] == [first.id]


def test_the_schema_allows_only_one_active_version(sessions: sessionmaker[Session], trained_artifact: Path) -> None:
    install_artifact(sessions, trained_artifact)
    other = install_artifact(sessions, trained_artifact, promote=False)

    with pytest.raises(IntegrityError):
        with write_transaction(sessions) as session:
            session.execute(update(ModelVersionRow).where(ModelVersionRow.id == other.id).values(status="active"))


def test_a_promotion_rolled_back_with_its_transaction_changes_nothing(
    sessions: sessionmaker[Session], trained_artifact: Path
) -> None:
    first = install_artifact(sessions, trained_artifact)
    second = install_artifact(sessions, trained_artifact, promote=False)

    with pytest.raises(RuntimeError, match="stopped half-way"):
        with write_transaction(sessions) as session:
            registry.promote(session, second.id)
            raise RuntimeError("stopped half-way")

    with sessions() as session:
        assert registry.active_version_id(session) == first.id
        assert registry.get_version(session, second.id).status == VersionStatus.CANDIDATE


def test_loading_the_active_version_gives_back_the_stored_model_set(
    sessions: sessionmaker[Session], trained_artifact: Path, artifact_text: str
) -> None:
    install_artifact(sessions, trained_artifact)
    with sessions() as session:
        version = registry.active_version(session)
    assert version is not None
    model_set = registry.load_model_set(version)

    # Serialising the loaded set again gives the stored text byte for byte: nothing was lost on the way.
    assert dumps(model_set) == artifact_text
    assert model_set.cutoff == version.data_cutoff and model_set.default_model == version.default_model


def test_an_artifact_that_fails_its_checksum_is_refused_and_cannot_be_promoted(
    sessions: sessionmaker[Session], trained_artifact: Path, artifact_text: str
) -> None:
    good = install_artifact(sessions, trained_artifact)
    bad = install_artifact(sessions, trained_artifact, promote=False)
    tampered = artifact_text.replace('"default_model":"', '"default_model":"x', 1)
    assert tampered != artifact_text
    with write_transaction(sessions) as session:
        session.execute(update(ModelVersionRow).where(ModelVersionRow.id == bad.id).values(artifact=tampered))

    with sessions() as session:
        stored = registry.get_version(session, bad.id, with_artifact=True)
    with pytest.raises(registry.CorruptArtifact, match=f"model version {bad.id} is refused: the artifact's sha256"):
        registry.load_model_set(stored)
    with pytest.raises(registry.CorruptArtifact, match="cannot be promoted"):
        with write_transaction(sessions) as session:
            registry.promote(session, bad.id)
    with sessions() as session:
        assert registry.active_version_id(session) == good.id


def test_an_unreadable_artifact_is_refused_even_with_a_matching_checksum(
    sessions: sessionmaker[Session], trained_artifact: Path, artifact_text: str
) -> None:
    version = install_artifact(sessions, trained_artifact)
    truncated = artifact_text[: len(artifact_text) // 2]
    with write_transaction(sessions) as session:
        session.execute(
            update(ModelVersionRow)
            .where(ModelVersionRow.id == version.id)
            .values(artifact=truncated, artifact_sha256=registry.artifact_sha256(truncated))
        )
    with sessions() as session:
        stored = registry.active_version(session)
    assert stored is not None
    with pytest.raises(registry.CorruptArtifact, match="the artifact cannot be read"):
        registry.load_model_set(stored)


def test_an_artifact_whose_contents_disagree_with_its_row_is_refused(
    sessions: sessionmaker[Session], trained_artifact: Path
) -> None:
    version = install_artifact(sessions, trained_artifact)
    with write_transaction(sessions) as session:
        session.execute(
            update(ModelVersionRow).where(ModelVersionRow.id == version.id).values(data_cutoff=date(2001, 1, 1))
        )
    with sessions() as session:
        stored = registry.active_version(session)
    assert stored is not None
    with pytest.raises(registry.CorruptArtifact, match="data cutoff or data hash differs"):
        registry.load_model_set(stored)


def test_text_that_is_not_a_model_set_is_not_stored(sessions: sessionmaker[Session]) -> None:
    for text_ in ("{not json", json.dumps({"format": "something else"}), "[]"):
        with pytest.raises(registry.RegistryError):
            with write_transaction(sessions) as session:
                registry.save_artifact(session, text_)
    with sessions() as session:
        assert registry.list_versions(session) == []


def test_unknown_versions_are_named(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        with pytest.raises(registry.UnknownVersion, match="no model version 'nope'"):
            registry.get_version(session, "nope")
    with pytest.raises(registry.UnknownVersion):
        with write_transaction(sessions) as session:
            registry.promote(session, "nope")


def test_a_version_read_without_its_artifact_cannot_be_loaded(
    sessions: sessionmaker[Session], trained_artifact: Path
) -> None:
    version = install_artifact(sessions, trained_artifact)
    with pytest.raises(registry.RegistryError, match="with_artifact=True"):
        registry.load_model_set(version)


def test_the_artifact_is_stored_as_plain_json(sessions: sessionmaker[Session], trained_artifact: Path) -> None:
    version = install_artifact(sessions, trained_artifact)
    with sessions() as session:
        stored = session.execute(
            text("SELECT artifact FROM model_versions WHERE id = :id"), {"id": version.id}
        ).scalar_one()
    assert json.loads(stored)["format"] == ARTIFACT_FORMAT
    assert "pickle" not in stored
