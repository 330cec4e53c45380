"""Alembic environment for the store, driven programmatically by forecasting.store.migrations.runner.

The caller passes an open connection in `config.attributes["connection"]`
(so the SQLite pragmas of `create_store_engine` apply), or a URL in
`config.attributes["url"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from forecasting.store.db import create_store_engine
from forecasting.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_with_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with_connection(connection)
        return
    engine = create_store_engine(config.attributes["url"])
    try:
        with engine.begin() as new_connection:
            run_with_connection(new_connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(url=config.attributes["url"], target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
