#!/bin/sh
# The image's entrypoint. The first argument picks what the container does:
#
#   serve [UVICORN OPTIONS]   migrate and seed the store, then run the HTTP service (uvicorn, PROVOCAST_WORKERS workers)
#   migrate                   migrate and seed the store (and grant PROVOCAST_APP_ROLE row access), then exit
#   retrain [OPTIONS]         one retrain, then exit: `provocast retrain OPTIONS`
#   cycle [OPTIONS]           one sync, then a retrain if the history changed, then exit (the Kubernetes CronJob)
#   retrain-scheduler [OPTS]  sync and retrain on the cron schedule PROVOCAST_RETRAIN_CRON, in this one process
#   anything else             run as a command, e.g. `provocast events list` or `sh`
#
# Every setting comes from the environment (PROVOCAST_DATABASE_URL, PROVOCAST_API_TOKEN, ...; see docs/configuration.md).
# Store commands that fail with exit code 1 (store unreachable, or another replica migrating or seeding at the
# same moment) are retried for up to PROVOCAST_STARTUP_WAIT_SECONDS; bad input (exit code 2) is not retried.
set -eu

say() {
    printf 'entrypoint: %s\n' "$*" >&2
}

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
}

# A setting that must be a whole number of at least 1; exits with code 2 naming the variable otherwise.
positive_integer() {
    case "$2" in
        '' | *[!0-9]* | 0 | 0*)
            say "error: $1 must be a whole number of at least 1, not '$2'"
            exit 2
            ;;
    esac
}

# Run a store command, retrying while it exits with 1 (the store's "unreachable or failed" code).
with_store_retry() {
    wait_seconds=${PROVOCAST_STARTUP_WAIT_SECONDS:-60}
    positive_integer PROVOCAST_STARTUP_WAIT_SECONDS "$wait_seconds"
    deadline=$(($(date +%s) + wait_seconds))
    while :; do
        status=0
        "$@" || status=$?
        if [ "$status" -eq 0 ]; then
            return 0
        fi
        if [ "$status" -ne 1 ] || [ "$(date +%s)" -ge "$deadline" ]; then
            say "'$*' failed with exit code $status"
            exit "$status"
        fi
        say "'$*' failed with exit code 1 (store unreachable or busy); retrying in 2 s"
        sleep 2
    done
}

prepare_store() {
    with_store_retry provocast db upgrade
    with_store_retry provocast seed
}

if [ "$#" -eq 0 ]; then
    usage
    exit 2
fi

command=$1
shift
case "$command" in
    serve)
        workers=${PROVOCAST_WORKERS:-2}
        port=${PROVOCAST_PORT:-8000}
        concurrency=${PROVOCAST_LIMIT_CONCURRENCY:-200}
        keep_alive=${PROVOCAST_KEEP_ALIVE_SECONDS:-5}
        positive_integer PROVOCAST_WORKERS "$workers"
        positive_integer PROVOCAST_PORT "$port"
        positive_integer PROVOCAST_LIMIT_CONCURRENCY "$concurrency"
        positive_integer PROVOCAST_KEEP_ALIVE_SECONDS "$keep_alive"
        prepare_store
        say "serving on ${PROVOCAST_HOST:-0.0.0.0}:$port with $workers worker(s)"
        # Past --limit-concurrency connections per worker uvicorn answers 503 at once instead of queueing them;
        # an idle keep-alive connection is closed after --timeout-keep-alive seconds. X-Forwarded-For is believed
        # only from FORWARDED_ALLOW_IPS (uvicorn's own variable; 127.0.0.1 unless set): the proxy in front.
        exec uvicorn service.main:app --host "${PROVOCAST_HOST:-0.0.0.0}" --port "$port" --workers "$workers" \
            --limit-concurrency "$concurrency" --timeout-keep-alive "$keep_alive" --proxy-headers "$@"
        ;;
    migrate)
        prepare_store
        if [ -n "${PROVOCAST_APP_ROLE:-}" ]; then
            with_store_retry provocast db grant "$PROVOCAST_APP_ROLE"
        fi
        ;;
    retrain)
        exec provocast retrain "$@"
        ;;
    cycle)
        exec provocast cycle "$@"
        ;;
    retrain-scheduler)
        cron=${PROVOCAST_RETRAIN_CRON:-}
        if [ -z "$cron" ]; then
            say "error: PROVOCAST_RETRAIN_CRON is empty; set a cron expression in UTC, e.g. \"0 3 * * *\""
            exit 2
        fi
        exec provocast schedule --cron "$cron" "$@"
        ;;
    help | -h | --help)
        usage
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
