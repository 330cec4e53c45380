#!/bin/sh
# Runs once, when the `db` service of compose.yaml initialises an empty data directory: creates the app role
# the service and the scheduler connect as. It owns nothing; the `migrate` service (as the owner) grants it row
# access with `provocast db grant provocast_app`, so it cannot alter tables, truncate them or touch triggers.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE provocast_app LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE provocast TO provocast_app;
SQL
