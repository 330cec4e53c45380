"""`provocast retrain` killed with SIGKILL at random points of its run, while the service serves.

After each kill: exactly one version is active, either the one active before
or (when the kill came after the promotion committed) the complete new one;
every stored version passes its checksum and loads; the service serves the
active version and never a leftover candidate; the retrain lock is free at
once (its owner is gone) and a later retrain runs to the end. The delays are
drawn from a seeded generator over the length of a whole run, so they cover
the backtest, the fits, storing the candidate and the promotion.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from forecasting.domain.vocabulary import VersionStatus
from forecasting.settings import PROJECT_ROOT
from forecasting.store import registry
from forecasting.store.retrain_lock import current_holder
from tests.faults.live_server import live_server, server_environment
from tests.service.conftest import Store, seeded_store, wait_for

KILLS = 6
SEED = 20261125


def test_a_retrain_killed_at_random_points_leaves_a_whole_active_version(
    backend: str, tmp_path: Path, trained_artifact: Path
) -> None:
    with seeded_store(backend, tmp_path / "store", trained_artifact) as store:
        env = server_environment(store.url)
        with live_server(store.url, tmp_path / "logs", ready="/readyz") as server, server.client() as client:
            full = _timed_retrain(env)  # a whole run, storing a candidate only
            rng = random.Random(SEED)
            delays = sorted(rng.uniform(0.02, 1.05) * full for _ in range(KILLS))
            outcomes = []
            for delay in delays:
                before = store.versions()
                process = subprocess.Popen(
                    [sys.executable, "-m", "forecasting.cli", "retrain", "--promote", "always", "--force"],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                time.sleep(delay)
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                code = process.wait()
                outcomes.append((round(delay, 1), "killed" if code == -signal.SIGKILL else f"exited {code}"))
                active = _check_registry(store, before)
                wait_for(
                    lambda a=active: client.get("/v1/models").json()["serving"] == a, f"the service to serve {active}"
                )
                models = client.get("/v1/models").json()
                assert models["active"] == models["serving"] == active and models["load_error"] is None
                with store.factory() as session:
                    assert current_holder(session) is None, "the killed retrain's lock was not freed"
            print(f"whole retrain {full:.1f} s; kills: {outcomes}")
            assert any(outcome == "killed" for _, outcome in outcomes)

            last = _timed_retrain(env, promote="always")
            assert last > 0
            with store.factory() as session:
                final = registry.active_version(session, with_artifact=False)
            assert final is not None
            wait_for(lambda: client.get("/v1/models").json()["serving"] == final.id, "the final version to be served")


def _timed_retrain(env: dict[str, str], promote: str = "never") -> float:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "forecasting.cli", "retrain", "--promote", promote, "--force"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return time.monotonic() - started


def _check_registry(store: Store, before: dict[str, str]) -> str:
    """The registry after a kill is one of the two whole states; returns the active version."""
    after = store.versions()
    active = [v for v, status in after.items() if status == VersionStatus.ACTIVE]
    assert len(active) == 1, after
    [previous] = [v for v, status in before.items() if status == VersionStatus.ACTIVE]
    new = set(after) - set(before)
    assert len(new) <= 1, f"one retrain stored {len(new)} versions"
    for version in before:
        expected = VersionStatus.RETIRED if version == previous and active[0] != previous else before[version]
        assert after[version] == expected, (version, before[version], after[version])
    if active[0] != previous:
        assert active[0] in new, "a version other than the new one became active"
    with store.factory() as session:
        for version in new:
            stored = registry.get_version(session, version, with_artifact=True)
            registry.load_model_set(stored)  # raises CorruptArtifact if anything is half-written
    return active[0]
