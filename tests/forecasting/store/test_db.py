import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from forecasting.domain.records import EventRecord
from forecasting.domain.vocabulary import Origin
from forecasting.store.db import create_session_factory, create_store_engine, display_url, write_transaction
from forecasting.store.migrations.runner import upgrade_schema
from forecasting.store.tables import EventRow, LockRow


def test_sqlite_file_has_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'nested' / 'store.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (tmp_path / "nested" / "store.db").exists()
    engine.dispose()


def test_display_url_hides_the_password() -> None:
    shown = display_url("postgresql+psycopg://provocast:hunter2@db.example:5432/provocast")
    assert shown == "postgresql+psycopg://provocast:***@db.example:5432/provocast"


def test_transaction_rolls_back_everything_on_error(store_engine: Engine) -> None:
    upgrade_schema(store_engine)
    sessions = create_session_factory(store_engine)
    record = EventRecord("e1", date(2017, 9, 3), "nuclear_test", True, 1, "d", "s")
    with pytest.raises(RuntimeError):
        with write_transaction(sessions) as session:
            session.add(EventRow.from_record(record, Origin.MANUAL))
            session.flush()
            raise RuntimeError("stop half-way")
    with write_transaction(sessions) as session:
        assert session.scalars(select(EventRow)).all() == []


def test_a_writer_that_read_first_is_not_refused_by_a_concurrent_writer(store_engine: Engine) -> None:
    """Two writers at once, the first reading before it writes: the second waits its turn, neither fails."""
    upgrade_schema(store_engine)
    sessions = create_session_factory(store_engine)
    first_has_read = threading.Event()
    failures: list[BaseException] = []

    def second_writer() -> None:
        first_has_read.wait(5)
        try:
            with write_transaction(sessions) as other:
                other.add(LockRow(name="second"))
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=second_writer)
    thread.start()
    with write_transaction(sessions) as session:
        session.get(LockRow, "first")  # a read first: the transaction now works from a snapshot
        first_has_read.set()
        time.sleep(0.2)  # the second writer starts meanwhile
        session.add(LockRow(name="first"))
    thread.join(10)
    assert failures == []
    with sessions() as session:
        assert {row.name for row in session.scalars(select(LockRow))} == {"first", "second"}


UNREADABLE_WHILE_ANOTHER_CONNECTION_READS = """
import os, sys
from sqlalchemy import text
from forecasting.store.db import create_store_engine
database = sys.argv[1]
engine = create_store_engine("sqlite:///" + database)
with engine.begin() as connection:
    connection.execute(text("CREATE TABLE t (x)"))
    connection.execute(text("INSERT INTO t VALUES (1)"))
reader = engine.connect()
reader.execute(text("SELECT * FROM t")).all()  # holds its transaction, so SQLite keeps the file's descriptor
pooled = engine.connect()
pooled.execute(text("SELECT 1"))
pooled.close()
os.chmod(database, 0)
try:
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM t"))
except Exception as error:
    print("refused:", error)
else:
    print("read an unreadable file")
"""


def test_an_unreadable_sqlite_file_is_refused_even_while_another_connection_has_it_open(tmp_path: Path) -> None:
    # SQLite reuses an open descriptor of the same file for a new connection; without the
    # check at connect, that connection read a file this process may no longer read.
    import os
    import shutil
    import subprocess
    import sys

    wrapper: list[str] = []
    if os.geteuid() == 0:  # root reads any file through CAP_DAC_OVERRIDE: run without it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv (util-linux): a file mode cannot stop root")
        wrapper = [
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search",
        ]
    result = subprocess.run(
        [*wrapper, sys.executable, "-c", UNREADABLE_WHILE_ANOTHER_CONNECTION_READS, str(tmp_path / "store.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "refused:" in result.stdout and "cannot be read and written" in result.stdout, result.stdout
