# Provocast: the HTTP service, the retraining job and the CLI in one image.
#
#   docker build -t provocast .
#   docker run provocast serve | migrate | retrain | retrain-scheduler | provocast ...   (see deploy/entrypoint.sh)
#
# Dependencies come from requirements.lock (exact pins of pyproject.toml's runtime dependencies; `make lock`),
# as binary wheels only, so the build needs no compiler. Dev tools (pytest, ...) are never installed.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the locked dependencies and the project (not editable) ----------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/provocast

# The lock first, so that editing the code does not reinstall the dependencies.
COPY requirements.lock /tmp/requirements.lock
RUN /opt/provocast/bin/pip install --only-binary=:all: --no-deps --requirement /tmp/requirements.lock \
 && /opt/provocast/bin/pip check

COPY pyproject.toml README.md /src/
COPY forecasting /src/forecasting
COPY service /src/service
# --no-deps: everything the project needs is already in from the lock; `pip check` proves the lock covers it.
RUN /opt/provocast/bin/pip install --no-deps /src \
 && /opt/provocast/bin/pip check

# --- runtime ------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

ARG APP_UID=10001
# tini as PID 1: it reaps orphans and passes signals on, so a stopped container takes every process with it
# (uvicorn's workers, a retrain job and its backtest workers), not just the first.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid "${APP_UID}" provocast \
 && useradd --system --uid "${APP_UID}" --gid provocast --home-dir /home/provocast --create-home \
        --shell /usr/sbin/nologin provocast

COPY --from=build /opt/provocast /opt/provocast
COPY seeds /app/seeds
COPY deploy/entrypoint.sh /usr/local/bin/provocast-entrypoint
# The working directory is the app user's own, for files the CLI writes (e.g. `provocast backtest` -> var/).
RUN chmod 0755 /usr/local/bin/provocast-entrypoint \
 && install --directory --owner=provocast --group=provocast /app/work

ENV PATH=/opt/provocast/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PROVOCAST_SEEDS_DIR=/app/seeds \
    PROVOCAST_HOST=0.0.0.0 \
    PROVOCAST_PORT=8000 \
    PROVOCAST_WORKERS=2 \
    PROVOCAST_LIMIT_CONCURRENCY=200 \
    PROVOCAST_KEEP_ALIVE_SECONDS=5 \
    PROVOCAST_RETRAIN_CRON="0 3 * * *"

WORKDIR /app/work
USER provocast:provocast
EXPOSE 8000

# /healthz answers while the process is up (readiness, /readyz, is for load balancers); it answers while the first
# model trains, so the start period only covers waiting for the store, migrating and importing. No curl in the
# slim image: Python's urllib fails (exit 1) on a refused connection, a timeout or any non-2xx status.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PROVOCAST_PORT', '8000'), timeout=4)"

ENTRYPOINT ["tini", "--", "provocast-entrypoint"]
CMD ["serve"]
