"""`provocast events sync` against a local HTTP server: every case checked by what the store holds afterwards.

The server (tests/fixtures/http_server.py) serves a slice of the real processed
CSIS file, or variants of it made here; nothing reaches the network. Each case
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import EventRecord
from forecasting.domain.vocabulary import CoverageSource, Origin, SyncOutcome
from forecasting.lifecycle.syncing import SyncFailed, SyncSource, sync
from forecasting.settings import Settings
from forecasting.store.db import write_transaction
from forecasting.store.live.coverage import history_through, list_coverage
from forecasting.store.live.sync_runs import list_runs
from forecasting.store.repository import add_event
from forecasting.store.tables import EventRow
from tests.fixtures import FIXTURE_SEEDS, FIXTURES
from tests.fixtures.http_server import FixtureServer, Reply, fixture_server

SLICE = FIXTURES / "sync" / "csis-processed-2025-2026.csv"
TODAY = date(2026, 12, 2)


def settings(**overrides: object) -> Settings:
    # The fixture seeds hold no corrections file: the shipped corrections name rows outside the slice served here.
    base: dict[str, object] = {
        "seeds_dir": FIXTURE_SEEDS,
        "sync_retries": 0,
        "sync_backoff_seconds": 0.0,
        "sync_timeout_seconds": 2.0,
    }
    return Settings(**{**base, **overrides})


def rows_of(path: Path = SLICE) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def up_to(day: str) -> bytes:
    header, rows = rows_of()
    return csv_bytes(header, [r for r in rows if r[0] <= day])


FULL = SLICE.read_bytes()


def stored(factory: sessionmaker[Session]) -> dict[str, tuple[str, str, str]]:
    """Every event: id -> (date, origin, description)."""
    with factory() as session:
        return {r.id: (r.date.isoformat(), str(r.origin), r.description) for r in session.scalars(select(EventRow))}


def run(factory: sessionmaker[Session], server: FixtureServer, **overrides: object):
    return sync(factory, settings(**overrides), SyncSource(url=server.url), today=TODAY, say=lambda line: None)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with fixture_server() as running:
        yield running


def test_new_rows_come_in_as_sync_rows_and_move_coverage(sessions, server: FixtureServer) -> None:
    server.serve(Reply(body=up_to("2026-06-30")))
    first = run(sessions, server)
    before = stored(sessions)
    assert first.outcome == SyncOutcome.CHANGED and first.merge is not None
    assert len(first.merge.new) == len(before) > 30 and {o for _, o, _ in before.values()} == {"sync"}
    assert max(d for d, _, _ in before.values()) <= "2026-06-30"
    with sessions() as session:
        assert history_through(session) == date(2026, 6, 25)  # no Last-Modified: the file's newest row

    server.serve(Reply(body=FULL, last_modified="Tue, 01 Dec 2026 06:00:00 GMT"))
    second = run(sessions, server)
    after = stored(sessions)
    assert second.merge is not None and sorted(second.merge.new) == sorted(set(after) - set(before))
    assert {d for d, _, _ in (after[i] for i in second.merge.new)} == {
        "2026-07-03",
        "2026-08-06",
        "2026-08-12",
        "2026-08-20",
    }
    assert len(second.merge.unchanged) == len(before) and second.merge.removed == []
    with sessions() as session:
        assert history_through(session) == date(2026, 12, 1)  # the day the server says it published the file
        (run_row, _) = list_runs(session, limit=2)
    assert run_row.outcome == SyncOutcome.CHANGED and run_row.bytes == len(FULL) and run_row.http_status == 200
    assert (
        run_row.rows_new == 4 and run_row.rows_unchanged == len(before) and run_row.covered_through == date(2026, 12, 1)
    )
    assert run_row.sha256 is not None and len(run_row.sha256) == 64 and run_row.url == server.url


def test_a_changed_row_is_replaced_and_an_unchanged_file_changes_nothing(sessions, server: FixtureServer) -> None:
    server.serve(Reply(body=FULL))
    run(sessions, server)
    header, rows = rows_of()
    edited = [list(r) for r in rows]
    edited[1][3] = "North Korea fired two short-range ballistic missiles (a later report)."
    server.serve(Reply(body=csv_bytes(header, edited)))
    changed = run(sessions, server)
    assert changed.merge is not None and changed.merge.changed == ["2026-08-12-ballistic_missile"]
    event = stored(sessions)["2026-08-12-ballistic_missile"]
    assert event[1] == "sync" and "2 fired" in event[2]

    again = run(sessions, server)
    assert again.outcome == SyncOutcome.UNCHANGED and again.merge is not None and again.merge.changes == 0


def test_a_row_removed_upstream_is_deleted_and_a_redated_row_is_not_counted_twice(sessions, server) -> None:
    server.serve(Reply(body=FULL))
    run(sessions, server)
    header, rows = rows_of()
    before = stored(sessions)

    server.serve(Reply(body=csv_bytes(header, [r for r in rows if r[0] != "2026-07-03"])))
    removed = run(sessions, server)
    assert removed.merge is not None and removed.merge.removed == ["2026-07-03-cruise_missile"]
    assert set(stored(sessions)) == set(before) - {"2026-07-03-cruise_missile"}

    redated = [list(r) for r in rows if r[0] != "2026-07-03"]
    redated[1][0] = "2026-08-11"  # the 2026-08-12 launch, re-dated a day earlier upstream
    server.serve(Reply(body=csv_bytes(header, redated)))
    moved = run(sessions, server)
    assert moved.merge is not None
    assert moved.merge.redated == [("2026-08-12-ballistic_missile", "2026-08-11-ballistic_missile")]
    after = stored(sessions)
    assert "2026-08-12-ballistic_missile" not in after and after["2026-08-11-ballistic_missile"][0] == "2026-08-11"
    assert len(after) == len(before) - 1
    with sessions() as session:
        assert list_runs(session, limit=1)[0].rows_redated == 1


def test_a_file_that_would_remove_too_many_rows_is_refused(sessions, server: FixtureServer) -> None:
    server.serve(Reply(body=FULL))
    run(sessions, server)
    before = stored(sessions)
    server.serve(Reply(body=up_to("2025-12-31")))  # a half-published file: the 2026 rows are missing
    with pytest.raises(SyncFailed, match=r"would remove \d+ of the 41 synced events .* nothing was changed") as refused:
        run(sessions, server)
    assert refused.value.outcome == SyncOutcome.REFUSED
    assert stored(sessions) == before
    with sessions() as session:
        assert list_runs(session, limit=1)[0].outcome == SyncOutcome.REFUSED
        assert history_through(session) == date(2026, 8, 20)


BROKEN = {
    "html": (
        Reply(body=b"<!DOCTYPE html><html><body>Rate limited</body></html>\n", content_type="text/html"),
        "HTML page",
    ),
    "columns": (Reply(body=FULL.replace(b"date,type,event,", b"date,category,event,", 1)), "columns changed: type"),
    "cut mid-row": (Reply(body=FULL[: len(FULL) // 2]), "truncated"),
    "cut at a line": (Reply(body=FULL[: FULL.index(b"\n2025-") + 1]), "would remove"),
    "not utf-8": (Reply(body=b"date,type\n\xff\xfe\n"), "not UTF-8"),
    "header only": (Reply(body=FULL[: FULL.index(b"\n") + 1]), "no rows"),
    "a bad date": (Reply(body=FULL.replace(b"2026-08-20,Missile", b"2026-02-30,Missile", 1)), "2026-02-30"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_file_is_refused_and_changes_nothing(sessions, server: FixtureServer, case: str) -> None:
    server.serve(Reply(body=up_to("2026-08-12")))
    run(sessions, server)
    before = stored(sessions)
    reply, message = BROKEN[case]
    server.serve(reply)
    with pytest.raises(SyncFailed, match=message) as refused:
        run(sessions, server)
    assert refused.value.outcome == SyncOutcome.REFUSED
    assert stored(sessions) == before
    with sessions() as session:
        last = list_runs(session, limit=1)[0]
        assert history_through(session) == date(2026, 8, 12)
    assert last.outcome == SyncOutcome.REFUSED and message.split(":")[0] in (last.error or "")


FAILING = {
    "404": (Reply(status=404, body=b"Not Found"), {}, "HTTP 404", 1),
    "500": (Reply(status=500, body=b"oops"), {"sync_retries": 2}, r"HTTP 500 .*after 3 attempts", 3),
    "timeout": (Reply(body=FULL, delay=1.5), {"sync_timeout_seconds": 0.5, "sync_retries": 1}, "no answer within", 2),
    "oversized": (Reply(body=FULL), {"sync_max_bytes": 10_000}, "over the cap of 10000", 1),
    "truncated transfer": (Reply(body=FULL[:5000], declared_length=len(FULL)), {}, "ended", 1),
}


@pytest.mark.parametrize("case", list(FAILING))
def test_a_failed_fetch_is_recorded_and_changes_nothing(sessions, server: FixtureServer, case: str) -> None:
    server.serve(Reply(body=up_to("2026-08-12")))
    run(sessions, server)
    before = stored(sessions)
    reply, overrides, message, requests = FAILING[case]
    server.serve(reply)
    with pytest.raises(SyncFailed, match=message) as failed:
        run(sessions, server, **overrides)
    assert failed.value.outcome == SyncOutcome.FAILED
    assert len(server.requests) == requests
    assert stored(sessions) == before
    with sessions() as session:
        last = list_runs(session, limit=1)[0]
    assert last.outcome == SyncOutcome.FAILED and last.error and last.rows_new == 0


def test_an_unchanged_file_costs_one_304(sessions, server: FixtureServer) -> None:
    server.serve(Reply(body=FULL, etag='"v1"'))
    first = run(sessions, server)
    before = stored(sessions)
    second = run(sessions, server)
    assert first.outcome == SyncOutcome.CHANGED and second.outcome == SyncOutcome.NOT_MODIFIED
    assert [r.headers.get("If-None-Match") for r in server.requests] == [None, '"v1"']
    assert stored(sessions) == before
    with sessions() as session:
        latest, earlier = list_runs(session, limit=2)
    assert latest.outcome == SyncOutcome.NOT_MODIFIED and latest.http_status == 304
    assert latest.sha256 == earlier.sha256 and latest.etag == '"v1"'


def test_user_rows_are_never_touched(sessions, server: FixtureServer) -> None:
    mine = EventRecord(
        id="2026-08-20-ballistic_missile",
        date=date(2026, 8, 20),
        event_type="ballistic_missile",
        weapons_test=True,
        count=3,
        description="My own account.",
        source="a curator's note",
    )
    with write_transaction(sessions) as session:
        add_event(session, mine, Origin.MANUAL)
    server.serve(Reply(body=FULL))
    report = run(sessions, server)
    assert report.merge is not None and report.merge.kept_user_rows == [mine.id]
    assert stored(sessions)[mine.id] == ("2026-08-20", "manual", "My own account.")
    server.serve(Reply(body=up_to("2026-08-12")))
    run(sessions, server)  # the row is gone upstream: a user row still stays
    assert stored(sessions)[mine.id][1] == "manual"


def test_a_sync_that_fails_inside_the_transaction_leaves_the_store_as_it_was(sessions, server, store_url) -> None:
    server.serve(Reply(body=up_to("2026-06-30")))
    run(sessions, server)
    before = stored(sessions)
    with sessions() as session:
        coverage_before = list_coverage(session)
    # A real database fault on the last insert of the merge, after its deletes and updates were made.
    with write_transaction(sessions) as session:
        if store_url.startswith("sqlite"):
            session.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON events WHEN NEW.id = '2026-08-20-ballistic_missile' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.id = '2026-08-20-ballistic_missile' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            session.execute(
                text("CREATE TRIGGER refuse_one BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_one()")
            )
    header, rows = rows_of()
    edited = [list(r) for r in rows if r[0] != "2026-06-25"]  # a removal, a change and new rows in one file
    edited[5][3] = "Edited upstream."
    server.serve(Reply(body=csv_bytes(header, edited)))
    with pytest.raises(SyncFailed, match="the store failed") as failed:
        run(sessions, server)
    assert failed.value.outcome == SyncOutcome.FAILED
    assert stored(sessions) == before
    with sessions() as session:
        assert list_coverage(session) == coverage_before
        assert list_runs(session, limit=1)[0].outcome == SyncOutcome.FAILED


def test_a_local_file_syncs_without_network_and_can_state_its_coverage(sessions, tmp_path: Path) -> None:
    copy = tmp_path / "csis.csv"
    copy.write_bytes(FULL)
    report = sync(
        sessions,
        settings(),
        SyncSource(file=copy, complete_through=date(2026, 11, 30)),
        today=TODAY,
        say=lambda line: None,
    )
    assert report.outcome == SyncOutcome.CHANGED and report.covered_through == date(2026, 11, 30)
    with sessions() as session:
        (coverage,) = list_coverage(session)
    assert coverage.source == CoverageSource.SYNC and coverage.through == date(2026, 11, 30)
    assert str(copy) in coverage.detail


def test_a_dry_run_writes_nothing(sessions, server: FixtureServer) -> None:
    server.serve(Reply(body=FULL))
    report = sync(sessions, settings(), SyncSource(url=server.url), dry_run=True, today=TODAY, say=lambda line: None)
    assert report.outcome == SyncOutcome.CHANGED and report.merge is not None and len(report.merge.new) == 41
    assert stored(sessions) == {}
    with sessions() as session:
        assert list_runs(session) == [] and list_coverage(session) == []
