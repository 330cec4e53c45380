"""`provocast events sync`: fetch the published CSIS file, check it, map it, merge it, move coverage, record the run.

One run, in order:

1. fetch (`forecasting.ingest.fetch`): conditional on the validators of the
   last file of the same URL the store merged, so an unchanged file costs one
   304; or read `--file` (a deployment without network);
2. check (`forecasting.ingest.sync_file`): an HTML page, a truncated file or
   changed columns are refused;
3. map with the CSIS mapping and the seeds' corrections, like `events import
   --format csis`;
4. merge (`forecasting.store.live.sync_merge`) and move the sync's coverage,
   in one transaction: all or nothing (a run killed mid-way leaves the store
   as it was);
5. record the run in `sync_runs`, whatever happened, and count it.

Coverage: through `--complete-through` when given; else through the day the
server says the file was last modified (Last-Modified), capped at today; else
through the file's newest row.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import RecordError, RecordFileError
from forecasting.domain.vocabulary import CoverageSource, SyncOutcome
from forecasting.ingest.fetch import Fetched, FetchFailed, FetchLimits, fetch
from forecasting.ingest.sync_file import CheckedFile, SyncFileRefused, check_csis_bytes
from forecasting.settings import Settings
from forecasting.store.columns import utc_now
from forecasting.store.db import write_transaction
from forecasting.store.importing import ImportBatch, read_import_file
from forecasting.store.live.coverage import set_coverage
from forecasting.store.live.sync_merge import SyncMerge, SyncRefused, merge_synced
from forecasting.store.live.sync_runs import SyncRun, last_merged_run, record_run

log = logging.getLogger("provocast.sync")
log.addHandler(logging.NullHandler())

SYNC_RUNS = Counter(
    "provocast_sync_runs_total",
    "Syncs run by this process, by outcome (changed, unchanged, not_modified, refused, failed)",
    ["outcome"],
)


class SyncFailed(RuntimeError):
    """The sync changed nothing because the file could not be fetched, was refused, or the store failed."""

    def __init__(self, message: str, outcome: SyncOutcome, run: SyncRun | None = None):
        super().__init__(message)
        self.outcome = outcome
        self.run = run


@dataclass
class SyncReport:
    outcome: SyncOutcome
    run: SyncRun | None  # None in a dry run
    merge: SyncMerge | None = None
    covered_through: dt.date | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.outcome == SyncOutcome.CHANGED


@dataclass(frozen=True)
class SyncSource:
    url: str | None = None
    file: Path | None = None
    complete_through: dt.date | None = None

    @property
    def label(self) -> str:
        return str(self.file.resolve()) if self.file is not None else str(self.url)


def sync(
    factory: sessionmaker[Session],
    settings: Settings,
    source: SyncSource,
    *,
    dry_run: bool = False,
    today: dt.date | None = None,
    say: Callable[[str], None] = print,
) -> SyncReport:
    """Run one sync; raise SyncFailed (after recording the run) when nothing could be merged."""
    today = today or dt.date.today()
    started = utc_now()
    record: dict[str, Any] = {"url": source.label, "started_at": started}

    def finish(outcome: SyncOutcome, error: str | None = None, session: Session | None = None) -> SyncRun | None:
        SYNC_RUNS.labels(outcome).inc()
        values = {**record, "outcome": outcome, "error": error, "finished_at": utc_now()}
        if dry_run:
            return None
        if session is not None:
            return record_run(session, values)
        try:
            with write_transaction(factory) as own:
                return record_run(own, values)
        except SQLAlchemyError as failure:
            log.error("sync run not recorded: %s", failure)
            return None

    def refuse(outcome: SyncOutcome, message: str) -> SyncFailed:
        run = finish(outcome, message)
        log.error("sync %s: %s", outcome, message, extra={"outcome": outcome, "url": source.label})
        return SyncFailed(message, outcome, run)

    try:
        fetched = _obtain(factory, settings, source)
    except FetchFailed as error:
        record["http_status"] = error.status
        raise refuse(SyncOutcome.FAILED, str(error)) from None
    except (OSError, RecordError) as error:
        raise refuse(SyncOutcome.FAILED, str(error)) from None
    record.update(http_status=fetched.status, etag=fetched.etag, last_modified=fetched.last_modified)
    if fetched.not_modified:
        previous = _previous(factory, source.label)
        record.update(
            bytes=previous.bytes if previous else None,
            sha256=previous.sha256 if previous else None,
            covered_through=previous.covered_through if previous else None,
        )
        run = finish(SyncOutcome.NOT_MODIFIED)
        line = f"{source.label}: not modified since the last sync (HTTP 304); nothing downloaded, nothing changed"
        say(line)
        log.info("sync not_modified: %s", source.label, extra={"outcome": SyncOutcome.NOT_MODIFIED})
        return SyncReport(SyncOutcome.NOT_MODIFIED, run, None, record["covered_through"], [line])
    body = fetched.body or b""
    record.update(bytes=len(body), sha256=fetched.sha256)
    try:
        checked = check_csis_bytes(body, fetched.content_type)
        batch = _mapped(checked, settings, source.label)
        through = _coverage_date(source, fetched, checked, today)
    except (SyncFileRefused, RecordFileError, RecordError) as error:
        raise refuse(SyncOutcome.REFUSED, f"{source.label} refused: {error}") from None
    record["covered_through"] = through
    lines = [*batch.notes]
    try:
        with write_transaction(factory) as session:
            merge = merge_synced(
                session, batch.events, max_removed_share=settings.sync_max_removed_share, dry_run=dry_run
            )
            record.update(
                rows_new=len(merge.new),
                rows_changed=len(merge.changed),
                rows_unchanged=len(merge.unchanged),
                rows_removed=len(merge.removed),
                rows_redated=len(merge.redated),
            )
            outcome = SyncOutcome.CHANGED if merge.changes else SyncOutcome.UNCHANGED
            if dry_run:
                session.rollback()
                run = finish(outcome)
            else:
                set_coverage(session, CoverageSource.SYNC, through, f"sync of {source.label}", today=today)
                run = finish(outcome, session=session)
    except SyncRefused as error:
        for key in ("rows_new", "rows_changed", "rows_unchanged", "rows_removed", "rows_redated"):
            record.pop(key, None)
        raise refuse(SyncOutcome.REFUSED, f"{source.label} refused: {error}") from None
    except (SQLAlchemyError, RecordError) as error:
        raise refuse(SyncOutcome.FAILED, f"the store failed during the sync: {error}") from None
    verb = "dry run: would have synced" if dry_run else "synced"
    lines.append(
        f"{verb} {source.label} ({len(body)} bytes, sha256 {(fetched.sha256 or '')[:12]}): {merge.summary()}; "
        f"sync coverage through {through}" + ("; nothing written" if dry_run else "")
    )
    for line in lines:
        say(line)
    log.info("sync %s: %s", outcome, merge.summary(), extra={"outcome": outcome, "url": source.label})
    return SyncReport(outcome, run, merge, through, lines)


def _obtain(factory: sessionmaker[Session], settings: Settings, source: SyncSource) -> Fetched:
    if source.file is not None:
        body = source.file.read_bytes()
        if len(body) > settings.sync_max_bytes:
            raise FetchFailed(f"{source.file} is {len(body)} bytes, over the cap of {settings.sync_max_bytes}")
        return Fetched(source.label, 200, body, None, None, "", 1)
    url = source.url or settings.sync_url
    if urlparse(url).scheme not in ("http", "https"):
        raise RecordError("url", f"{url!r} is not an http(s) URL; use --file for a local file")
    previous = _previous(factory, url)
    limits = FetchLimits(
        settings.sync_timeout_seconds, settings.sync_max_bytes, settings.sync_retries, settings.sync_backoff_seconds
    )
    return fetch(
        url,
        limits,
        etag=previous.etag if previous else None,
        last_modified=previous.last_modified if previous else None,
    )


def _previous(factory: sessionmaker[Session], url: str) -> SyncRun | None:
    with factory() as session:
        return last_merged_run(session, url)


def _mapped(checked: CheckedFile, settings: Settings, label: str) -> ImportBatch:
    """The file mapped like `events import --format csis`; messages name the source, not the scratch file."""
    with tempfile.TemporaryDirectory(prefix="provocast-sync-") as folder:
        path = Path(folder) / "csis.csv"
        path.write_text(checked.text, encoding="utf-8")
        try:
            batch = read_import_file(path, "csis", settings.seeds_dir)
        except RecordFileError as error:
            for problem in error.problems:
                problem.file = label if problem.file == str(path) else problem.file
            raise
    return replace(batch, file_name=label, notes=[note.replace(str(path), label) for note in batch.notes])


def _coverage_date(source: SyncSource, fetched: Fetched, checked: CheckedFile, today: dt.date) -> dt.date:
    if source.complete_through is not None:
        if source.complete_through > today:
            raise RecordError("complete_through", f"{source.complete_through} is in the future")
        return source.complete_through
    if fetched.last_modified:
        try:
            published = parsedate_to_datetime(fetched.last_modified).astimezone(dt.UTC).date()
        except (TypeError, ValueError):
            published = None
        if published is not None:
            return min(published, today)
    if checked.last_row_date is None:
        raise RecordError("date", "the file has no dated row")
    return min(checked.last_row_date, today)
