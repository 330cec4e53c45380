"""Is the store at the head revision? Answered without importing Alembic.

The service checks this once at start-up, where Alembic's import (about a tenth of a second) would only serve to
read one row and list five files. The head is read from the revision files themselves (the revision that no
other revision names as its `down_revision`), so it is still defined in one place; a test holds it equal to
Alembic's own answer (`runner.head_revision`).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from forecasting.store.db import StoreUnavailable, describe_error, display_url

VERSIONS_DIR = Path(__file__).resolve().parent / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)", re.MULTILINE)


def head_from_files(versions_dir: Path = VERSIONS_DIR) -> str:
    """The one revision no other revision builds on; ValueError if the files do not form one line."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions_dir.glob("*.py"):
        found = {name: double or single for name, double, single in _ASSIGNMENT.findall(path.read_text("utf-8"))}
        if not found.get("revision"):
            raise ValueError(f"{path.name} declares no revision")
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) != 1:
        raise ValueError(f"the revisions in {versions_dir} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def stored_revision(engine: Engine) -> str | None:
    """The store's revision (None when it has no schema yet); StoreUnavailable when it cannot be reached."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(VERSION_TABLE):
                return None
            return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except SQLAlchemyError as error:
        raise StoreUnavailable(f"cannot open the store at {display_url(engine)}: {describe_error(error)}") from None


def require_current_schema(engine: Engine) -> None:
    """Raise StoreUnavailable unless the store is reachable and at the head revision."""
    current = stored_revision(engine)
    head = head_from_files()
    if current != head:
        state = "has no schema yet" if current is None else f"is at revision {current}, not {head}"
        raise StoreUnavailable(f"the store at {display_url(engine)} {state}; run `provocast db upgrade`")
