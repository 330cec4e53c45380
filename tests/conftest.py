"""Shared fixtures: a real store (SQLite file and PostgreSQL), migrated from empty for each test.

PostgreSQL cases need PROVOCAST_TEST_POSTGRES_URL (see .ci/run). Each test
gets its own schema on that server (put first on the search path through the
URL), so tests stay independent and run in parallel under pytest-xdist.
Without the URL the PostgreSQL cases skip, unless PROVOCAST_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from forecasting.settings import get_settings
from forecasting.store.db import create_session_factory, create_store_engine, write_transaction
from forecasting.store.migrations.runner import upgrade_schema
from tests.fixtures import FIXTURE_SEEDS

POSTGRES_URL_ENV = "PROVOCAST_TEST_POSTGRES_URL"
# CI never reaches the network: a sync that a test does not point at its own local server fails at once
# (nothing listens on the discard port). Set before any settings are read, inherited by child processes.
os.environ["PROVOCAST_SYNC_URL"] = "http://127.0.0.1:9/sync-url-not-set-by-this-test.csv"
REQUIRE_POSTGRES_ENV = "PROVOCAST_REQUIRE_POSTGRES"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are cached per process; tests change the environment, so drop the cache around each."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        reason = f"{POSTGRES_URL_ENV} is not set, so there is no PostgreSQL server to test against (.ci/run sets it)"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {reason}")
        pytest.skip(reason)
    return url


@contextmanager
def new_store(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty store: a SQLite file in `directory`, or a new schema on the PostgreSQL server."""
    if backend == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{directory / 'store.db'}"
        return
    base = postgres_base_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store: a new SQLite file, or a new schema on the PostgreSQL server."""
    with new_store(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    """An engine on an empty store (no tables yet)."""
    engine = create_store_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_engine(store_engine: Engine) -> Engine:
    upgrade_schema(store_engine)
    return store_engine


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    """Session factory on a store migrated to the latest revision."""
    return create_session_factory(migrated_engine)


@pytest.fixture
def store_env(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI (through Settings) at the test store and the fixture seeds."""
    monkeypatch.setenv("PROVOCAST_DATABASE_URL", store_url)
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(FIXTURE_SEEDS))
    return store_url


# --- one trained model set for the whole test run ---------------------------------------------------

TRAINING_OVERRIDES = ("PROVOCAST_TRAINING_MODELS", "PROVOCAST_TRAINING_GROUPS", "PROVOCAST_BACKTEST_SINCE")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the shared trained model set run last, and its training starts with the first test.

    Training takes about two minutes. Run first in collection order, the tests needing it made one worker train and
    the other wait on the lock; now both run every other test while it trains in the background (see
    `_train_in_the_background`). The sort is stable and the same in every worker, as xdist requires.
    """
    needs = [ARTIFACT_FIXTURE in item.fixturenames for item in items]
    items[:] = [item for _, item in sorted(zip(needs, items, strict=True), key=lambda pair: pair[0])]
    config.stash[NEEDS_ARTIFACT] = any(needs)


ARTIFACT_FIXTURE = "trained_artifact"
NEEDS_ARTIFACT = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def shared_training_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory all xdist workers of this run share (the run's base temporary directory)."""
    return tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent


@pytest.fixture(scope="session", autouse=True)
def _train_in_the_background(request: pytest.FixtureRequest, shared_training_dir: Path) -> Iterator[None]:
    """Start training the shared model set as the run begins, when any collected test needs it (the first worker
    to get the lock trains; the others' threads wait on it without holding up their tests)."""
    import threading

    reused = os.environ.get("PROVOCAST_TEST_TRAINED_ARTIFACT", "").strip()
    if reused or not request.config.stash.get(NEEDS_ARTIFACT, False):
        yield
        return

    def train() -> None:
        try:
            shared_trained_artifact(shared_training_dir)
        except BaseException:  # not lost: the fixture that needs the set trains again and fails there, with the output
            pass

    thread = threading.Thread(target=train, name="shared-training", daemon=True)
    thread.start()
    yield
    thread.join()  # never leave a training process behind the run


@pytest.fixture(scope="session")
def trained_artifact(shared_training_dir: Path) -> Path:
    """The JSON text (`model_set.dumps`) of one model set trained on the shipped seeds, in a file.

    Trained once per test run by the real `provocast retrain` on a scratch
    SQLite store; pytest-xdist workers share it through a file lock, so the
    suite pays for one training. Tests copy it into their own store with
    `install_artifact`.
    """
    reused = os.environ.get("PROVOCAST_TEST_TRAINED_ARTIFACT", "").strip()
    if reused:  # for quick local runs only: a model set trained by an earlier run (never set in CI)
        return Path(reused)
    return shared_trained_artifact(shared_training_dir)


def shared_trained_artifact(shared: Path) -> Path:
    """The shared model set's file, trained under a file lock by whoever comes first."""
    import fcntl
    import subprocess
    import sys

    from forecasting.store import registry
    from tests.fixtures import shipped_seeds_dir

    artifact = shared / "trained-model-set.json"
    with open(shared / "trained-model-set.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if artifact.exists():
            return artifact
        url = f"sqlite:///{shared / 'trained-model-set.db'}"
        env = {k: v for k, v in os.environ.items() if k not in TRAINING_OVERRIDES}
        env.update(PROVOCAST_DATABASE_URL=url, PROVOCAST_SEEDS_DIR=str(shipped_seeds_dir()))
        for command in (["db", "upgrade"], ["seed"], ["retrain", "--promote", "always"]):
            done = subprocess.run(
                [sys.executable, "-m", "forecasting.cli", *command],
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert done.returncode == 0, f"provocast {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
        engine = create_store_engine(url)
        try:
            with create_session_factory(engine)() as session:
                version = registry.active_version(session)
                assert version is not None and version.artifact is not None
                artifact.with_suffix(".tmp").write_text(version.artifact, encoding="utf-8")
        finally:
            engine.dispose()
        artifact.with_suffix(".tmp").rename(artifact)
        return artifact


def install_artifact(factory: sessionmaker[Session], artifact: Path, promote: bool = True):
    """Store a trained artifact as a new version (and make it active): how tests get a model without training."""
    from forecasting.store import registry

    with write_transaction(factory) as session:
        version = registry.save_artifact(session, artifact.read_text(encoding="utf-8"))
        if promote:
            registry.promote(session, version.id)
    with factory() as session:
        return registry.get_version(session, version.id)
