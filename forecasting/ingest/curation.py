"""Rebuild `seeds/events.csv` from the CSIS reference file and the curated additions.

    python -m forecasting.ingest.curation [--csis PATH] [--check]

The build is deterministic: the mapped CSIS rows (see the `forecasting.ingest.csis` package, with
the sourced per-row fixes in `seeds/curation/corrections.csv`) plus the weapons
tests in `seeds/curation/additions.csv`, sorted by date then id, written in `EVENT_COLUMNS` order (`events_csv_text`, the
text `--check` compares with). The generated
sections of `seeds/README.md` (between `<!-- BEGIN GENERATED name -->` and
`<!-- END GENERATED name -->`) are rewritten from the same build so they
cannot drift from the data.

Conflict rule: an addition with the same id (date and type) as a CSIS event is
a duplicate; the CSIS event wins and the addition is refused (reported on
stderr and in the README), never merged silently.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from forecasting.domain.records import (
    EVENT_COLUMNS,
    EventRecord,
    FieldProblem,
    RecordFileError,
    read_events_csv,
)
from forecasting.domain.vocabulary import EVENT_TYPES
from forecasting.ingest.csis import (
    CORRECTIONS_FILE_NAME,
    LABELS,
    CsisCorrection,
    CsisMapping,
    RowOutcome,
    event_id,
    map_csis_rows,
    read_corrections_csv,
    read_csis_csv,
)
from forecasting.ingest.csis.labels import BM
from forecasting.settings import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "seeds"
CURATION_DIR = SEEDS_DIR / "curation"
# CI and developers have shared/ beside the clone.
DEFAULT_CSIS_PATH = PROJECT_ROOT.parent / "shared" / "data" / "csis-provocations.csv"
ADDITIONS_FILE_NAME = "additions.csv"
FIRST_COVERAGE_YEAR = 1958  # the first year of the CSIS file


@dataclass(frozen=True)
class Curation:
    """One build: the seed events, and what went into them (for the README's generated sections)."""

    events: list[EventRecord]
    mapping: CsisMapping
    corrections: list[CsisCorrection]
    additions: list[EventRecord]
    refused_additions: list[EventRecord]


def build(csis_path: Path, curation_dir: Path = CURATION_DIR) -> Curation:
    """Map the CSIS file, apply corrections, add the additions; raise RecordFileError on bad input."""
    rows = read_csis_csv(csis_path)
    corrections_path = curation_dir / CORRECTIONS_FILE_NAME
    corrections = read_corrections_csv(corrections_path) if corrections_path.exists() else []
    mapping = map_csis_rows(rows, str(csis_path), corrections)
    additions_path = curation_dir / ADDITIONS_FILE_NAME
    additions = read_events_csv(additions_path)
    _check_addition_ids(additions, additions_path)
    csis_ids = {e.id for e in mapping.events}
    accepted = [a for a in additions if a.id not in csis_ids]
    refused = [a for a in additions if a.id in csis_ids]
    events = sorted(mapping.events + accepted, key=lambda e: (e.date, e.id))
    return Curation(events, mapping, corrections, accepted, refused)


def _check_addition_ids(additions: list[EventRecord], path: Path) -> None:
    problems = [
        FieldProblem(str(path), 0, "id", f"{a.id!r} should be {event_id(a.date, a.event_type)!r} (date and event type)")
        for a in additions
        if a.id != event_id(a.date, a.event_type)
    ]
    if problems:
        raise RecordFileError(problems)


def events_csv_text(events: list[EventRecord]) -> str:
    """The text of seeds/events.csv for these events: what `write_seeds` writes and `--check` compares."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EVENT_COLUMNS), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for event in events:
        writer.writerow(event.as_row())
    return buffer.getvalue()


# --- README sections -------------------------------------------------------------------


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|")


def vocabulary_section() -> str:
    lines = ["| event type | weapons_test default | meaning |", "| --- | --- | --- |"]
    for name, kind in EVENT_TYPES.items():
        lines.append(f"| `{name}` | {'true' if kind.weapons_test_default else 'false'} | {_table_cell(kind.meaning)} |")
    return "\n".join(lines)


def labels_section() -> str:
    lines = [
        "| CSIS type | CSIS event label | event type(s) | description rules |",
        "| --- | --- | --- | --- |",
    ]
    for (kind, label), rule in sorted(LABELS.items()):
        types = " + ".join(f"`{t}`" for t in rule.types) if rule.types else f"left out: {rule.left_out}"
        notes = []
        if rule.generic:
            notes.append("generic launch: cruise / surface-to-air / artillery-shell rules")
        if rule.rockets:
            notes.append("600 mm rule")
        if BM in rule.types:
            notes.append("hypersonic rule")
        lines.append(f"| {kind} | {_table_cell(label)} | {types} | {'; '.join(notes)} |")
    return "\n".join(lines)


def corrections_section(curation: Curation) -> str:
    if not curation.corrections:
        return "No corrections."
    lines = [
        "| CSIS date | CSIS label | part | field | value | reason | source |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in curation.corrections:
        lines.append(
            f"| {c.csis_date} | {_table_cell(c.csis_event)} | {c.event_type or 'all'} | {c.field} | {c.value or '(empty)'} "
            f"| {_table_cell(c.reason)} | {_table_cell(c.source)} |"
        )
    return "\n".join(lines)


def additions_section(curation: Curation) -> str:
    lines = [f"{len(curation.additions)} weapons tests added beyond CSIS.", ""]
    lines += ["| id | count | source |", "| --- | --- | --- |"]
    for a in curation.additions:
        lines.append(f"| {a.id} | {'' if a.count is None else a.count} | {_table_cell(a.source)} |")
    if curation.refused_additions:
        lines += ["", "Refused as duplicates of a CSIS event (the CSIS event wins):", ""]
        lines += [f"- {a.id}" for a in curation.refused_additions]
    return "\n".join(lines)


def coverage_section(curation: Curation) -> str:
    csis_rows = Counter(a.date.year for a in curation.mapping.accounting)
    events = Counter(e.date.year for e in curation.events)
    tests = Counter(e.date.year for e in curation.events if e.weapons_test)
    added = Counter(a.date.year for a in curation.additions)
    last_year = max(e.date.year for e in curation.events)
    lines = [
        "| year | CSIS rows | events | weapons tests | of which added |",
        "| --- | --- | --- | --- | --- |",
    ]
    for year in range(FIRST_COVERAGE_YEAR, last_year + 1):
        lines.append(f"| {year} | {csis_rows[year]} | {events[year]} | {tests[year]} | {added[year]} |")
    by_type = Counter(e.event_type for e in curation.events)
    lines += ["", "| event type | events |", "| --- | --- |"]
    lines += [f"| `{name}` | {by_type[name]} |" for name in EVENT_TYPES]
    lines.append(f"| all | {len(curation.events)} |")
    return "\n".join(lines)


def accounting_section(curation: Curation) -> str:
    outcomes = Counter(a.outcome for a in curation.mapping.accounting)
    lines = [
        f"{len(curation.mapping.accounting)} CSIS rows: {outcomes[RowOutcome.MAPPED]} mapped, "
        f"{outcomes[RowOutcome.MERGED]} merged, {outcomes[RowOutcome.LEFT_OUT]} left out. "
        "Line numbers are those of the reference file (header = line 1).",
        "",
        "| line | date | CSIS label | outcome | event id(s) | reason |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for a in curation.mapping.accounting:
        lines.append(
            f"| {a.line} | {a.date} | {_table_cell(a.label)} | {a.outcome} | {a.event_id} | {_table_cell(a.reason)} |"
        )
    return "\n".join(lines)


def readme_sections(curation: Curation) -> dict[str, str]:
    return {
        "vocabulary": vocabulary_section(),
        "labels": labels_section(),
        "corrections": corrections_section(curation),
        "additions": additions_section(curation),
        "coverage": coverage_section(curation),
        "accounting": accounting_section(curation),
    }


def render_readme(text: str, sections: dict[str, str], name: str = "seeds/README.md") -> str:
    """Replace each generated section between its markers; raise ValueError when a marker is missing."""
    for section, body in sections.items():
        text = _replace_section(text, section, body, name)
    return text


def _replace_section(text: str, section: str, body: str, name: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN GENERATED {section} -->\n)(?:.*?\n)?(<!-- END GENERATED {section} -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"{name}: markers for generated section {section!r} are missing")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


# --- writing -------------------------------------------------------------------------------


def _replace_atomically(target: Path, text: str, check: Callable[[Path], object] | None = None) -> None:
    """Write `text` to a temporary file beside `target`, `check` it, then move it into place; nothing on error."""
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        if check is not None:
            check(Path(temp))
        # mkstemp makes the file private (0600); the seeds are shared files, so keep the mode they had.
        os.chmod(temp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_seeds(curation: Curation, seeds_dir: Path = SEEDS_DIR) -> None:
    """Write events.csv and the README's generated sections; nothing on error."""
    readme_path = seeds_dir / "README.md"
    readme = render_readme(readme_path.read_text(encoding="utf-8"), readme_sections(curation), str(readme_path))
    # Every written row must read back as a valid event.
    _replace_atomically(seeds_dir / "events.csv", events_csv_text(curation.events), check=read_events_csv)
    _replace_atomically(readme_path, readme)


def check_seeds(curation: Curation, seeds_dir: Path = SEEDS_DIR) -> list[str]:
    """Differences between the committed seed files and a fresh build (empty when up to date)."""
    problems = []
    events_path = seeds_dir / "events.csv"
    if not events_path.exists() or events_path.read_text(encoding="utf-8") != events_csv_text(curation.events):
        problems.append(f"{events_path} differs from a rebuild")
    readme_path = seeds_dir / "README.md"
    text = readme_path.read_text(encoding="utf-8")
    if render_readme(text, readme_sections(curation), str(readme_path)) != text:
        problems.append(f"{readme_path}: generated sections differ from a rebuild")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forecasting.ingest.curation", description=__doc__.splitlines()[0])
    parser.add_argument("--csis", type=Path, default=DEFAULT_CSIS_PATH, help="the CSIS reference CSV")
    parser.add_argument("--check", action="store_true", help="compare with the committed seeds, write nothing")
    args = parser.parse_args(argv)
    try:
        curation = build(args.csis)
        if args.check:
            problems = check_seeds(curation)
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        write_seeds(curation)
    except (RecordFileError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for refused in curation.refused_additions:
        print(f"refused addition {refused.id}: CSIS already has this event", file=sys.stderr)
    outcomes = Counter(str(a.outcome) for a in curation.mapping.accounting)
    print(
        f"wrote {len(curation.events)} events ({len(curation.mapping.events)} from CSIS, "
        f"{len(curation.additions)} added); CSIS rows: {dict(outcomes)}"
    )
    return 0


__all__ = ["Curation", "build", "check_seeds", "events_csv_text", "main", "render_readme", "write_seeds"]

if __name__ == "__main__":
    raise SystemExit(main())
