"""The event store: the database the history lives in between the seed files and the models.

`db` opens engines and the one write transaction, `tables` and `columns` map
the tables, `migrations.runner` runs the Alembic revisions in `migrations/`,
`repository` reads and writes events and calendars (and loads the models'
`History`), `importing` validates and merges CSV files, `seeding` mirrors
`seeds/` into the store; `registry`, `jobs`, `retrain_lock` and `ledger` keep
the model versions, retrain jobs, the retrain lock and the forecast ledger.
"""
