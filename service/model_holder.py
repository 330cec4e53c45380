"""The model a worker serves, and how it follows the registry without a restart.

`ModelHolder.current` is one `LoadedModel`: a registry version, its warmed
Forecaster and a memo of finished responses. A request takes that reference
once, so every response comes from one whole version. A background task polls
the registry every `registry_poll_seconds`; when another version becomes
active it is loaded and warmed in a thread while the old one keeps serving,
then swapped in with one assignment. A version that fails to load (corrupted
artifact) is refused and the old one kept. The poll also refreshes an
in-memory copy of the election calendar, so election forecasts need no
database round trip and keep working when the store is down.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.history import History
from forecasting.domain.records import ElectionRecord
from forecasting.lifecycle import retrain_jobs
from forecasting.serving.forecaster import Forecaster
from forecasting.store import registry
from forecasting.store.db import describe_error, display_url
from forecasting.store.migrations.schema_check import require_current_schema
from forecasting.store.registry import CorruptArtifact, ModelVersion
from forecasting.store.repository import event_records, list_elections
from service.edge.response_caches import MEMO_MAX_BYTES, ChartCache, ResponseMemo
from service.schemas import BacktestWindow
from service.settings import ServiceSettings

log = logging.getLogger("provocast.service")


@dataclass
class LoadedModel:
    """A served version with what is derived from it, dropped together when another version is swapped in."""

    version: ModelVersion
    forecaster: Forecaster
    loaded_at: datetime
    load_seconds: float
    memo: ResponseMemo
    charts: ChartCache = field(default_factory=ChartCache)
    backtest_windows: list[BacktestWindow] | None = None  # the /v1/backtests view, built on first use
    history_events: pd.DataFrame | None = None  # the store's events as the charts draw them, read on first use

    @property
    def id(self) -> str:
        return self.version.id


class ModelHolder:
    def __init__(
        self,
        engine: Engine,
        factory: sessionmaker[Session],
        settings: ServiceSettings,
        on_loaded: Callable[[LoadedModel, dict[str, ElectionRecord]], None] | None = None,
        child_env: dict[str, str] | None = None,
        after_serving: Callable[[LoadedModel], None] | None = None,
    ):
        self.engine = engine
        self.factory = factory
        self.settings = settings
        self.on_loaded = on_loaded  # before a version is served (warming its answers)
        self.after_serving = after_serving  # once it is served, in the background (the ledger)
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="after-serving")
        self._after_serving_done: Future[None] | None = None
        self.child_env = child_env if child_env is not None else dict(os.environ)  # for the start-up retrain
        self.current: LoadedModel | None = None
        self.elections: dict[str, ElectionRecord] = {}
        self.calendar_generation = 0
        self.active_id: str | None = None  # the registry's active version at the last poll
        self.load_error: str | None = None  # why the active version is not the one served
        self.store_error: str | None = None  # why the last poll could not read the store
        self.bootstrap_job: str | None = None
        self._refused: set[str] = set()
        self._schema_checked = False
        self._bootstrap_tried = False
        self._task: asyncio.Task[None] | None = None
        self._refresh_lock = threading.Lock()

    # --- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.refresh)
        self._task = asyncio.create_task(self._poll_forever(), name="registry-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await asyncio.to_thread(self._background.shutdown, wait=True, cancel_futures=True)
        if self._after_serving_done is not None and not self._after_serving_done.done():
            self._after_serving_done.set_result(None)  # cancelled before it ran: nobody waits for it any more

    @property
    def settled(self) -> bool:
        """Whether the after-serving work of the version last swapped in (its remaining parts, the ledger) is done."""
        return self._after_serving_done is None or self._after_serving_done.done()

    def wait_after_serving(self, timeout: float | None = None) -> None:
        """Wait until the after-serving work of the version last swapped in has finished (tests, tools)."""
        if self._after_serving_done is not None:
            wait([self._after_serving_done], timeout=timeout)

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.registry_poll_seconds)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:  # never let the poll die; the next one tries again
                log.exception("registry poll failed")

    # --- one poll ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the active version id and the election calendar; load the active version if it is new."""
        with self._refresh_lock:
            try:
                if not self._schema_checked:
                    require_current_schema(self.engine)
                    self._schema_checked = True
                with self.factory() as session:
                    active_id = registry.active_version_id(session)
                    elections = {e.id: e for e in list_elections(session)}
            except Exception as error:
                self.store_error = _describe(error)
                log.warning("registry poll: %s", self.store_error)
                return
            if elections != self.elections:
                self.elections = elections
                self.calendar_generation += 1  # the fast path's memoised bodies depend on the calendar
            self.store_error = None
            self.active_id = active_id
            if active_id is None:
                self._bootstrap()
                return
            if self.current is not None and self.current.id == active_id:
                self.load_error = None
                return
            if active_id in self._refused:
                return
            self._load(active_id)

    def _load(self, version_id: str) -> None:
        started = time.perf_counter()
        try:
            with self.factory() as session:
                version = registry.get_version(session, version_id, with_artifact=True)
        except Exception as error:  # store trouble mid-read: try again at the next poll
            self.load_error = f"could not load version {version_id}: {_describe(error)}"
            log.warning("%s", self.load_error)
            return
        try:
            model_set = registry.load_model_set(version)
            forecaster = Forecaster(model_set, version=version.id)  # reads the stored answers: no simulation
            forecaster.check_default_parts()  # the rest of the version is built, and checked, on first use
        except Exception as error:
            # The artifact itself is at fault (it fails a check, or reads but cannot forecast): the same
            # bytes would fail again, so refuse the version once instead of retrying it at every poll.
            refusal = (
                error
                if isinstance(error, CorruptArtifact)
                else CorruptArtifact(version_id, f"it cannot forecast: {type(error).__name__}: {error}")
            )
            self._refused.add(version_id)
            self.load_error = f"{refusal}; still serving {self.current.id if self.current else 'nothing'}"
            log.error("%s", self.load_error)
            return
        loaded = LoadedModel(
            version=_without_artifact(version),
            forecaster=forecaster,
            loaded_at=datetime.now(UTC),
            load_seconds=time.perf_counter() - started,
            memo=ResponseMemo(self.settings.forecast_cache_size, MEMO_MAX_BYTES),
            charts=ChartCache(queue_size=self.settings.chart_queue_size),
        )
        if self.on_loaded is not None:
            try:
                self.on_loaded(loaded, self.elections)  # fill the memo before the first request sees it
            except Exception:
                log.exception("warming the responses of %s failed; they are computed on request", version_id)
        if self.after_serving is not None:
            # Set before the swap, so that whoever sees the new version and waits, waits for its work.
            self._after_serving_done = Future()
        previous = self.current
        self.current = loaded
        self.load_error = None
        log.info(
            "serving model version %s (loaded in %.1f s%s)",
            version_id,
            loaded.load_seconds,
            f", replacing {previous.id}" if previous else "",
        )
        replaced = previous is not None
        del previous
        settle_heap(collect=replaced)
        if self.after_serving is not None and self._after_serving_done is not None:
            self._background.submit(self._run_after_serving, loaded, self._after_serving_done)

    def _run_after_serving(self, loaded: LoadedModel, done: Future[None]) -> None:
        assert self.after_serving is not None
        try:
            self.after_serving(loaded)
        except Exception:
            log.exception("after serving %s", loaded.id)
        finally:
            done.set_result(None)

    def _bootstrap(self) -> None:
        """No version is active: start one retrain process (once per worker; the lock keeps it to one overall)."""
        if not self.settings.train_when_empty or self._bootstrap_tried:
            return
        self._bootstrap_tried = True
        try:
            job = retrain_jobs.start_retrain_job(
                self.factory,
                promote="auto",
                cutoff=None,
                env=self.child_env,
                requested_by="service start-up",
                if_no_active=True,
                timeout_seconds=self.settings.retrain_timeout_seconds,
            )
        except retrain_jobs.RetrainBusy as busy:
            log.info("no active version yet; another process is training one (%s)", busy)
            return
        except Exception as error:
            log.error("could not start the first retrain: %s", _describe(error))
            return
        self.bootstrap_job = job.id
        log.info("no active version: started retrain job %s; serving once it is promoted", job.id)

    def chart_events(self, loaded: LoadedModel) -> pd.DataFrame:
        """The store's events, read once per loaded version (the chart shows them up to the data cutoff only)."""
        if loaded.history_events is None:
            with self.factory() as session:
                loaded.history_events = History.from_records(event_records(session), [], []).events
        return loaded.history_events

    # --- readiness -------------------------------------------------------------------------

    def store_reachable(self) -> tuple[bool, str]:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            return False, _describe(error)
        return True, display_url(self.engine)

    def not_ready_reason(self) -> str | None:
        if self.current is not None:
            return None
        if self.load_error:
            return self.load_error
        if self.store_error:
            return f"no model loaded: the store cannot be read ({self.store_error})"
        if self.active_id is None:
            job = (
                f" (retrain job {self.bootstrap_job}, see /v1/jobs/{self.bootstrap_job})" if self.bootstrap_job else ""
            )
            return (
                f"no model version is active yet; the first one is being trained{job}"
                if self.settings.train_when_empty
                else ("no model version is active; run `provocast retrain`")
            )
        return f"model version {self.active_id} is loading"


def settle_heap(collect: bool = True) -> None:
    """Keep the served version out of the garbage collector's way, and give freed memory back.

    A loaded version and the libraries behind it are a few hundred thousand
    long-lived objects; every full collection would walk them all, a pause of
    about 0.2 s in the middle of requests (the p99 latency). Frozen, they are
    skipped. Unfreezing first lets the previous version's reference cycles be
    collected. The load's temporary text and arrays are freed but glibc keeps the
    pages; malloc_trim returns them, so RSS measures what is really held.
    The first version loaded replaces nothing, so the full collection (a few
    tenths of a second at start-up) is left out then.
    """
    if collect:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _without_artifact(version: ModelVersion) -> ModelVersion:
    return replace(version, artifact=None)


def _describe(error: Exception) -> str:
    return describe_error(error) if isinstance(error, SQLAlchemyError) else str(error) or type(error).__name__
