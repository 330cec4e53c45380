"""The event store: the database the history lives in between the seed files and the models.

`db` opens engines and sessions, `models` maps the tables, `migrate` runs the
Alembic revisions in `migrations/`, `repository` reads and writes rows,
`importing` validates and merges CSV files, `seeding` mirrors `seeds/` into the
store, and `repository.load_history` turns the store into a `forecasting.domain.history.History`.
"""
