"""Retraining through the API while the app serves: promotion without a restart, a killed retrain, corrupted artifacts.

Each test has its own store. Retrains fit climatology on the weapons group
(the FAST_TRAINING settings), through the same job, process and lock as
production; the app polls the registry every 0.2 s.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from forecasting.store import jobs, registry
from forecasting.store.retrain_lock import current_holder
from forecasting.store.tables import ModelVersionRow
from tests.conftest import install_artifact
from tests.service.conftest import WAIT_SECONDS, Store, auth, running_app, wait_for


def finished_job(client: TestClient, job_id: str) -> dict:
    def done() -> dict | None:
        body = client.get(f"/v1/jobs/{job_id}", headers=auth()).json()
        return body if body["status"] in ("succeeded", "failed") else None

    return wait_for(done, f"job {job_id} to finish")


def forecast_path(store: Store) -> str:
    assert store.active is not None
    cutoff = store.active.data_cutoff
    start, end = cutoff + timedelta(days=60), cutoff + timedelta(days=120)
    return f"/v1/forecasts/upcoming?days_before=0&days_after=0&from={start}&to={end}"


def test_a_retrain_through_the_api_is_served_without_a_restart(fresh_store: Store) -> None:
    with running_app(fresh_store.url) as client:
        before = client.get("/v1/forecasts/upcoming").json()
        assert fresh_store.active is not None and before["version"] == fresh_store.active.id

        started = client.post("/v1/models/retrain", json={"promote": "always"}, headers=auth())
        assert started.status_code == 202, started.text
        job = started.json()
        assert started.headers["location"] == f"/v1/jobs/{job['id']}" == job["url"]
        assert job["status"] in ("queued", "running") and job["arguments"]["promote"] == "always"

        second = client.post("/v1/models/retrain", headers=auth())
        assert second.status_code == 409 and "already" in second.json()["error"]["message"]

        done = finished_job(client, job["id"])
        assert done["status"] == "succeeded" and done["exit_code"] == 0 and done["promoted"] is True, done
        new_version = done["version_id"]
        assert done["message"] == f"promoted {new_version} (retired {fresh_store.active.id})"
        assert any(line.startswith("stored candidate") for line in done["output"])
        # Without the token the output (hosts, paths, traceback tails) is left out; the status is public.
        public = client.get(f"/v1/jobs/{job['id']}").json()
        assert public["output"] == [] and public["status"] == "succeeded" and public["message"] == done["message"]

        promoted_at = time.monotonic()
        after = wait_for(
            lambda: (body := client.get("/v1/forecasts/upcoming").json())["version"] == new_version and body,
            "the app to serve the promoted version",
        )
        swap_seconds = time.monotonic() - promoted_at
        print(f"promoted version served {swap_seconds:.2f} s after the job finished")
        assert after["items"] and all(
            i["forecast"] is None or i["forecast"]["model"] == "climatology" for i in after["items"]
        )
        models = client.get("/v1/models").json()
        assert models["active"] == models["serving"] == new_version
        assert client.get("/readyz").json()["model"]["version"] == new_version
    assert fresh_store.versions() == {fresh_store.active.id: "retired", new_version: "active"}


def test_killing_a_retrain_mid_way_leaves_the_active_version_and_forecasts_unchanged(fresh_store: Store) -> None:
    # A slower retrain (two models, backtest from 1990) so that it is surely still training when killed.
    with running_app(fresh_store.url, training_models="climatology,trailing_year", backtest_since=None) as client:
        before = client.get("/v1/forecasts/upcoming")
        versions_before = fresh_store.versions()

        job = client.post("/v1/models/retrain", json={"promote": "always"}, headers=auth()).json()
        with fresh_store.factory() as session:
            pid = wait_for(lambda: (found := jobs.get_job(session, job["id"])) and found.pid, "the job's process id")
        wait_for(
            lambda: any(
                line.startswith("backtesting")
                for line in client.get(f"/v1/jobs/{job['id']}", headers=auth()).json()["output"]
            ),
            "the retrain to start training",
        )
        os.killpg(pid, signal.SIGKILL)  # the retrain and its backtest workers (their own process group)

        failed = finished_job(client, job["id"])
        assert failed["status"] == "failed" and failed["version_id"] is None, failed
        assert "killed" in failed["message"] and "the active version is unchanged" in failed["message"], failed
        assert fresh_store.versions() == versions_before, failed
        after = client.get("/v1/forecasts/upcoming")
        assert after.status_code == 200, after.text
        assert after.json()["version"] == before.json()["version"] and after.content == before.content
        assert client.get("/readyz").status_code == 200
        with fresh_store.factory() as session:
            assert current_holder(session) is None  # the dead process's lock is free at once


def test_a_corrupted_version_is_refused_and_the_previous_one_kept(fresh_store: Store, trained_artifact) -> None:  # type: ignore[no-untyped-def]
    assert fresh_store.active is not None
    good = fresh_store.active.id
    with running_app(fresh_store.url) as client:
        before = client.get("/v1/forecasts/upcoming")
        with fresh_store.factory.begin() as session:
            bad = registry.save_artifact(session, trained_artifact.read_text())
        with fresh_store.factory.begin() as session:
            # Damage after storage (a bad disk, a hand edit), then make it active behind the registry's back.
            session.execute(
                update(ModelVersionRow)
                .where(ModelVersionRow.id == bad.id)
                .values(artifact=ModelVersionRow.artifact + " ")
            )
            session.execute(update(ModelVersionRow).where(ModelVersionRow.id == good).values(status="retired"))
            session.execute(update(ModelVersionRow).where(ModelVersionRow.id == bad.id).values(status="active"))

        models = wait_for(lambda: (body := client.get("/v1/models").json())["load_error"] and body, "the refusal")
        assert models["active"] == bad.id and models["serving"] == good
        assert models["load_error"].startswith(f"model version {bad.id} is refused: the artifact's sha256")
        assert models["load_error"].endswith(f"still serving {good}")
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["model"]["version"] == good
        assert ready.json()["model"]["load_error"] == models["load_error"]
        after = client.get("/v1/forecasts/upcoming")
        assert after.status_code == 200 and after.content == before.content

        with fresh_store.factory.begin() as session:  # roll back to the good version
            registry.promote(session, good)
        wait_for(lambda: client.get("/v1/models").json()["load_error"] is None, "the error to clear")


def test_starting_with_a_corrupted_active_version_is_not_ready(fresh_store: Store) -> None:
    assert fresh_store.active is not None
    with fresh_store.factory.begin() as session:
        session.execute(
            update(ModelVersionRow).where(ModelVersionRow.id == fresh_store.active.id).values(artifact_sha256="0" * 64)
        )
    with running_app(fresh_store.url) as client:
        ready = client.get("/readyz")
        forecast = client.get("/v1/forecasts/upcoming")
    assert ready.status_code == 503 and "is refused" in ready.json()["error"]["message"]
    assert forecast.status_code == 503 and forecast.json()["error"]["code"] == "model_unavailable"


def test_with_no_active_version_the_app_trains_one_then_serves_it(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.service.conftest import seeded_store

    with seeded_store(backend, tmp_path / "empty", artifact=None) as empty:
        with running_app(empty.url, train_when_empty=True) as client:
            first = client.get("/readyz")
            assert first.status_code == 503
            assert "being trained (retrain job job-" in first.json()["error"]["message"]
            ready = wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r.json(), "the first version")
            version = ready["model"]["version"]
            assert client.get("/v1/forecasts/upcoming").json()["version"] == version
            job = finished_job(client, _job_id(first))  # the job is marked done when its process exits, after promoting
            assert job["status"] == "succeeded" and job["arguments"]["requested_by"] == "service start-up"
        assert empty.versions() == {version: "active"}


def _job_id(response) -> str:  # type: ignore[no-untyped-def]
    message = response.json()["error"]["message"]
    return message.split("retrain job ")[1].split(",")[0]


def _group_members(group: int) -> list[int]:
    """The live processes of a process group (from /proc; zombies are not counted)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry))
    return members


def test_killing_the_retrain_process_alone_takes_its_workers_with_it(fresh_store: Store) -> None:
    # Two backtest workers; only the retrain process is killed, as `kill PID` would (not its group).
    with running_app(
        fresh_store.url, training_models="climatology,trailing_year", backtest_since=None, backtest_workers=2
    ) as client:
        job = client.post("/v1/models/retrain", json={"promote": "always"}, headers=auth()).json()
        with fresh_store.factory() as session:
            pid = wait_for(lambda: (found := jobs.get_job(session, job["id"])) and found.pid, "the job's process id")
        wait_for(lambda: len(_group_members(pid)) >= 3, "the retrain and its two backtest workers")
        os.kill(pid, signal.SIGKILL)
        failed = finished_job(client, job["id"])
        assert failed["status"] == "failed" and failed["version_id"] is None, failed
        # Before the fix both workers kept computing, and the watcher waited on their end of the output pipe.
        wait_for(lambda: not _group_members(pid), "the workers to exit with their retrain")


def test_a_retrain_past_its_timeout_is_stopped_with_its_workers(fresh_store: Store) -> None:
    with running_app(
        fresh_store.url,
        training_models="climatology,trailing_year",
        backtest_since=None,
        backtest_workers=2,
        retrain_timeout_seconds=4,
    ) as client:
        job = client.post("/v1/models/retrain", json={"promote": "always"}, headers=auth()).json()
        with fresh_store.factory() as session:
            pid = wait_for(lambda: (found := jobs.get_job(session, job["id"])) and found.pid, "the job's process id")
        failed = finished_job(client, job["id"])  # a retrain of this size takes far longer than 4 s
        assert failed["status"] == "failed" and failed["version_id"] is None, failed
        wait_for(lambda: not _group_members(pid), "the retrain and its workers to be stopped")
        assert client.get("/readyz").status_code == 200


def test_backtest_workers_exit_when_a_cli_retrain_is_killed(fresh_store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No watcher here (a cron or hand-run `provocast retrain`): the workers notice their parent is gone."""
    import subprocess
    import sys

    from tests.faults.live_server import server_environment

    env = server_environment(
        fresh_store.url, training_models="climatology,trailing_year", backtest_since=None, backtest_workers=2
    )
    log = (tmp_path / "retrain.log").open("w")
    retrain = subprocess.Popen(
        [sys.executable, "-m", "forecasting.cli", "retrain", "--promote", "never"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: len(_group_members(retrain.pid)) >= 3, "the retrain and its two backtest workers")
        retrain.kill()
        retrain.wait()
        wait_for(lambda: not _group_members(retrain.pid), "the workers to exit with their parent")
    finally:
        os.killpg(retrain.pid, signal.SIGKILL) if _group_members(retrain.pid) else None
        log.close()


def test_a_damaged_stored_part_answers_503_for_its_questions_only(fresh_store: Store) -> None:
    """Parts are built on first use; one that cannot be (its sha256 recomputed to match, as a hand edit would) is
    refused by name when asked for, and every other question is answered."""
    assert fresh_store.active is not None
    with fresh_store.factory() as session:
        stored = registry.get_version(session, fresh_store.active.id, with_artifact=True)
    data = json.loads(stored.artifact or "")
    data["answers"]["groups"]["weapons"]["hawkes"]["keys"] = {"small": "bm90IGEgemxpYiBzdHJlYW0="}
    damaged = json.dumps(data, separators=(",", ":"))
    with fresh_store.factory.begin() as session:
        session.execute(
            update(ModelVersionRow)
            .where(ModelVersionRow.id == stored.id)
            .values(artifact=damaged, artifact_sha256=registry.artifact_sha256(damaged))
        )
    with running_app(fresh_store.url) as client:
        assert client.get("/readyz").status_code == 200
        # Once served, every part was built in the background (running_app waits for it) but the damaged one.
        served = client.app.state.provocast.holder.current.forecaster  # type: ignore[attr-defined]
        weapons_answers = served.model_set.answers["weapons"]
        assert weapons_answers.built == len(weapons_answers) - 1 and "hawkes" in weapons_answers
        assert all(models.built == len(models) for models in served.model_set.models.values())
        asked = client.get(forecast_path(fresh_store), params={"model": "hawkes"})
        assert asked.status_code == 503, asked.text
        error = asked.json()["error"]
        assert error["code"] == "model_unavailable"
        assert error["message"].startswith("the model version's stored answers of weapons 'hawkes' cannot be read")
        for other in ("climatology", "trailing_year", fresh_store.active.default_model):
            answered = client.get(forecast_path(fresh_store), params={"model": other})
            assert answered.status_code == 200, answered.text


def test_readiness_says_when_the_after_serving_work_is_done(fresh_store: Store, trained_artifact) -> None:  # type: ignore[no-untyped-def]
    """Ready means the version answers; `settled` turns true once its remaining parts are built and the ledger
    recorded, in the background."""
    with running_app(fresh_store.url) as client:
        holder = client.app.state.provocast.holder  # type: ignore[attr-defined]
        release = threading.Event()
        original = holder.after_serving

        def held(loaded) -> None:  # type: ignore[no-untyped-def]
            release.wait(WAIT_SECONDS)
            original(loaded)

        holder.after_serving = held
        newer = install_artifact(fresh_store.factory, trained_artifact)  # promoted: the app swaps to it
        model = wait_for(lambda: (m := client.get("/readyz").json()["model"])["version"] == newer.id and m, "swap")
        assert model["settled"] is False
        assert client.get(forecast_path(fresh_store)).status_code == 200  # it answers meanwhile
        release.set()
        wait_for(lambda: client.get("/readyz").json()["model"]["settled"], "the after-serving work")
