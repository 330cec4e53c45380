import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.domain.records import read_events_csv
from forecasting.store.importing import read_import_file
from tests.fixtures import EVENT_HEADER, FIXTURE_SEEDS, SHARED_CSIS_FILE, shipped_seeds_dir, write_text

runner = CliRunner()
NUCLEAR_TEST_IDS = [
    "2017-09-03-nuclear_test",
    "2016-09-09-nuclear_test",
    "2016-01-06-nuclear_test",
    "2013-02-12-nuclear_test",
    "2009-05-25-nuclear_test",
    "2006-10-09-nuclear_test",
]


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def seeded_env(store_env: str) -> str:
    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("seed").exit_code == 0
    return store_env


def listed_ids(*args: str) -> list[str]:
    result = invoke("events", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return [event["id"] for event in json.loads(result.stdout)]


def test_list_json_filters_by_type_and_group(seeded_env: str) -> None:
    assert listed_ids("--type", "nuclear_test") == NUCLEAR_TEST_IDS
    assert listed_ids("--type", "nuclear") == NUCLEAR_TEST_IDS
    assert listed_ids("--type", "satellite", "--type", "armed_clash") == [
        "2012-12-12-satellite_launch",
        "2010-11-23-armed_clash",
    ]
    assert listed_ids("--no-weapons") == ["2024-05-28-harassment", "2010-11-23-armed_clash"]
    assert listed_ids("--type", "nuclear_test", "--from", "2010-01-01", "--to", "2016-12-31", "--limit", "2") == [
        "2016-09-09-nuclear_test",
        "2016-01-06-nuclear_test",
    ]


def test_list_json_carries_every_field(seeded_env: str) -> None:
    result = invoke("events", "list", "--json", "--type", "harassment")
    [event] = json.loads(result.stdout)
    assert event == {
        "id": "2024-05-28-harassment",
        "date": "2024-05-28",
        "event_type": "harassment",
        "weapons_test": False,
        "count": None,
        "description": "Balloons carrying rubbish sent across the border into South Korea.",
        "source": 'CSIS Beyond Parallel, "Database of North Korean Provocations", via github.com/stiles/north-korea-provocations',
        "origin": "seed",
    }


def test_list_prints_a_readable_table(seeded_env: str) -> None:
    result = invoke("events", "list", "--type", "nuclear", "--limit", "2")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["date", "id", "type", "weapons", "count", "description"]
    assert lines[1].split()[:5] == ["2017-09-03", "2017-09-03-nuclear_test", "nuclear_test", "yes", "1"]
    assert lines[1].endswith("Sixth and largest underground nuclear test, announced as...")
    assert lines[2].startswith("2016-09-09")
    assert lines[3] == "(1-2 of 6 matching events)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "nukes"], "error: field 'type': unknown event type or group 'nukes'"),
        (["--from", "2024-02-30"], "error: field 'from': '2024-02-30' is not a calendar date"),
        (["--from", "2020-01-01", "--to", "2019-01-01"], "error: field 'to': 2019-01-01 is before --from 2020-01-01"),
    ],
)
def test_list_refuses_bad_filters(seeded_env: str, args: list[str], message: str) -> None:
    result = invoke("events", "list", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)


def test_add_takes_the_weapons_flag_from_the_type_unless_given(seeded_env: str) -> None:
    balloons = invoke(
        "events",
        "add",
        "--date",
        "2024-06-01",
        "--type",
        "harassment",
        "--description",
        "More rubbish balloons.",
        "--source",
        "JCS via Yonhap",
    )
    drill = invoke(
        "events",
        "add",
        "--id",
        "2024-01-05-artillery-yeonpyeong",
        "--date",
        "2024-01-05",
        "--type",
        "artillery",
        "--count",
        "200",
        "--description",
        "Shells fired near Yeonpyeong.",
        "--source",
        "JCS via Yonhap",
    )
    override = invoke(
        "events",
        "add",
        "--date",
        "2024-01-05",
        "--type",
        "artillery",
        "--no-weapons",
        "--description",
        "Shells fired near Yeonpyeong.",
        "--source",
        "JCS via Yonhap",
    )

    assert balloons.stdout == "added 2024-06-01-harassment (2024-06-01, harassment, weapons test: False)\n"
    assert drill.exit_code == 0 and override.exit_code == 0, drill.output + override.output
    events = {e["id"]: e for e in json.loads(invoke("events", "list", "--json", "--from", "2024-01-01").stdout)}
    assert events["2024-06-01-harassment"]["weapons_test"] is False
    assert events["2024-06-01-harassment"]["origin"] == "manual"
    assert (
        events["2024-01-05-artillery-yeonpyeong"]["weapons_test"],
        events["2024-01-05-artillery-yeonpyeong"]["count"],
    ) == (True, 200)
    assert events["2024-01-05-artillery"]["weapons_test"] is False


def test_add_refuses_an_existing_id_and_bad_fields(seeded_env: str) -> None:
    again = invoke(
        "events",
        "add",
        "--date",
        "2017-09-03",
        "--type",
        "nuclear_test",
        "--description",
        "Sixth test.",
        "--source",
        "CSIS",
    )
    future = invoke(
        "events", "add", "--date", "2999-01-01", "--type", "nuclear_test", "--description", "x", "--source", "y"
    )
    no_source = invoke(
        "events", "add", "--date", "2020-01-01", "--type", "nuclear_test", "--description", "x", "--source", " "
    )

    assert again.exit_code == 2
    assert again.stderr == (
        "error: field 'id': event '2017-09-03-nuclear_test' is already in the store (origin seed); choose another id\n"
    )
    assert future.exit_code == 2 and future.stderr.startswith("error: field 'date': 2999-01-01 is in the future")
    assert no_source.exit_code == 2 and no_source.stderr == "error: field 'source': is missing\n"
    assert len(listed_ids()) == 10


def test_import_dry_run_then_import_then_conflict(seeded_env: str, tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "new.csv",
        "\n".join(
            [
                EVENT_HEADER,
                "2024-01-14-hypersonic_missile,2024-01-14,hypersonic_missile,true,1,Solid-fuel missile with a hypersonic warhead.,KCNA via Yonhap",
                "2017-11-29-ballistic_missile,2017-11-29,ballistic_missile,true,1,Hwasong-15 ICBM launched on a lofted trajectory into the Sea of Japan.,"
                '"CSIS Beyond Parallel, ""Database of North Korean Provocations"", via github.com/stiles/north-korea-provocations"',
            ]
        )
        + "\n",
    )

    dry = invoke("events", "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout == (
        f"dry run of {path}: would have inserted 1, updated 0, unchanged 1; nothing written\n"
        "  would insert 2024-01-14-hypersonic_missile\n"
    )
    assert len(listed_ids()) == 10

    real = invoke("events", "import", str(path))
    assert real.stdout == f"imported {path}: inserted 1, updated 0, unchanged 1\n"
    assert len(listed_ids()) == 11

    edited = path.read_text().replace("KCNA via Yonhap", "KCNA")
    write_text(path, edited)
    refused = invoke("events", "import", str(path))
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"error: {path}:2: field 'source': event '2024-01-14-hypersonic_missile' is already in the store "
        "(origin import) with a different source; use --update to replace it\n"
    )
    updated = invoke("events", "import", str(path), "--update")
    assert updated.stdout == f"imported {path}: inserted 0, updated 1, unchanged 1\n"


def test_import_with_a_bad_row_writes_nothing(seeded_env: str, tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "bad.csv",
        "\n".join(
            [
                EVENT_HEADER,
                "2024-01-14-hypersonic_missile,2024-01-14,hypersonic_missile,true,1,Hypersonic missile.,KCNA",
                "2024-01-24-cruise_missile,2024-01-24,cruise_missile,true,many,Cruise missiles.,JCS",
                "2024-01-28-cruise_missile,2024-01-28,cruise_missile,true,,Cruise missiles from a submarine.,",
            ]
        )
        + "\n",
    )

    result = invoke("events", "import", str(path))

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}:3: field 'count': 'many' is not a whole number from 1 to 1000 (or empty when unknown)",
        f"error: {path}:4: field 'source': is missing",
    ]
    assert "Traceback" not in result.output
    assert len(listed_ids()) == 10


def test_import_of_a_missing_file_is_a_clean_error(seeded_env: str, tmp_path: Path) -> None:
    result = invoke("events", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert (
        result.stderr == f"error: {tmp_path / 'nope.csv'}:0: field '-': cannot open file: No such file or directory\n"
    )


def test_export_writes_the_seed_schema(seeded_env: str, tmp_path: Path) -> None:
    to_stdout = invoke("events", "export")
    to_file = invoke("events", "export", "--out", str(tmp_path / "out.csv"))

    assert to_stdout.exit_code == 0 and to_file.exit_code == 0
    assert to_file.stderr == f"exported 10 events to {tmp_path / 'out.csv'}\n"
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == to_stdout.stdout
    exported = read_events_csv(tmp_path / "out.csv")
    assert exported == sorted(read_events_csv(FIXTURE_SEEDS / "events.csv"), key=lambda e: (e.date, e.id))


def test_the_installed_command_lists_nuclear_tests_as_json(seeded_env: str) -> None:
    command = Path(sys.executable).parent / "provocast"
    assert command.exists(), "the provocast script is not installed in this environment (make install)"
    env = {**os.environ, "PROVOCAST_DATABASE_URL": seeded_env}

    completed = subprocess.run(
        [str(command), "events", "list", "--type", "nuclear_test", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert [event["id"] for event in json.loads(completed.stdout)] == NUCLEAR_TEST_IDS


def test_shipped_seeds_hold_exactly_the_six_nuclear_tests(store_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(shipped_seeds_dir()))
    assert invoke("db", "upgrade").exit_code == 0
    seeded = invoke("seed")
    assert seeded.exit_code == 0, seeded.output

    events = json.loads(invoke("events", "list", "--type", "nuclear_test", "--json").stdout)

    assert sorted(event["date"] for event in events) == [
        "2006-10-09",
        "2009-05-25",
        "2013-02-12",
        "2016-01-06",
        "2016-09-09",
        "2017-09-03",
    ]
    assert all(event["weapons_test"] and event["source"] for event in events)


def test_csis_import_dry_run_on_the_shipped_seeds_finds_nothing_new(
    store_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(shipped_seeds_dir()))
    invoke("db", "upgrade")
    invoke("seed")
    mapped = read_import_file(SHARED_CSIS_FILE, "csis", shipped_seeds_dir()).events

    result = invoke("events", "import", str(SHARED_CSIS_FILE), "--format", "csis", "--dry-run")

    assert result.exit_code == 0, result.output
    note, summary = result.stdout.splitlines()
    assert note.startswith(f"{SHARED_CSIS_FILE}: ") and f"-> {len(mapped)} events" in note
    assert summary == (
        f"dry run of {SHARED_CSIS_FILE}: would have inserted 0, updated 0, unchanged {len(mapped)}; nothing written"
    )


def _add(*extra: str) -> None:
    result = invoke(
        "events", "add", "--date", "2024-03-01", "--type", "artillery", "--source", "https://example.org/s", *extra
    )
    assert result.exit_code == 0, result.output


def test_delete_keeps_the_row_in_the_audit_and_refuses_seed_rows(seeded_env: str) -> None:
    from forecasting.store.db import create_session_factory, create_store_engine
    from forecasting.store.repository import event_deletions

    _add("--description", "A barrage added by hand.", "--id", "hand-1")
    deleted = invoke("events", "delete", "hand-1")
    assert deleted.exit_code == 0, deleted.output
    assert "deleted hand-1 (2024-03-01, artillery, origin manual)" in deleted.stdout
    assert "hand-1" not in listed_ids()
    again = invoke("events", "delete", "hand-1")
    assert again.exit_code == 2 and "no event 'hand-1'" in again.output
    seed = invoke("events", "delete", NUCLEAR_TEST_IDS[0])
    assert seed.exit_code == 2 and "origin seed" in seed.output and "corrected there" in seed.output
    assert NUCLEAR_TEST_IDS[0] in listed_ids()

    engine = create_store_engine(seeded_env)
    try:
        with create_session_factory(engine)() as session:
            (audit,) = event_deletions(session)
    finally:
        engine.dispose()
    assert audit["event_id"] == "hand-1" and audit["origin"] == "manual"
    assert str(audit["deleted_by"]).startswith("cli:")
    row = audit["row"]
    assert isinstance(row, dict)
    assert row["description"] == "A barrage added by hand." and row["date"] == "2024-03-01"


def test_export_escapes_formula_cells_and_imports_them_back(seeded_env: str, tmp_path: Path) -> None:
    _add("--description", '=HYPERLINK("http://evil.example","click")', "--id", "formula-1")
    out = tmp_path / "events.csv"
    assert invoke("events", "export", "--out", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "formula-1,2024-03-01,artillery,true,,\"'=HYPERLINK(" in text
    raw = invoke("events", "export", "--raw")
    assert 'formula-1,2024-03-01,artillery,true,,"=HYPERLINK(' in raw.stdout
    batch = read_import_file(out, "seed")
    (back,) = [e for e in batch.events if e.id == "formula-1"]
    assert back.description == '=HYPERLINK("http://evil.example","click")'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "1000-01-01", "--description", "Old."), "before 1950-01-01"),
        (("--date", "2024-03-01", "--description", "bad\x1b[31m"), "U+001B"),
        (("--date", "2024-03-01", "--description", "reads \u202eesrever"), "U+202E"),
    ],
)
def test_add_refuses_old_dates_and_unsafe_text(seeded_env: str, args: tuple[str, ...], message: str) -> None:
    result = invoke("events", "add", "--type", "artillery", "--source", "https://example.org/s", *args)
    assert result.exit_code == 2 and message in result.output


def test_import_refuses_old_dates_and_unsafe_text(seeded_env: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        EVENT_HEADER
        + "\n"
        + "old-1,1000-01-01,artillery,true,,Old.,https://example.org/s\n"
        + "nul-1,2020-01-01,artillery,true,,with \x00 nul,https://example.org/s\n",
        encoding="utf-8",
    )
    result = invoke("events", "import", str(bad))
    assert result.exit_code == 2
    assert "field 'date': 1000-01-01 is before 1950-01-01" in result.output and "U+0000" in result.output
