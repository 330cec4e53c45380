"""The service's settings: the shared ones (store, token, training) plus what only the HTTP service reads."""

from __future__ import annotations

from typing import Literal

from forecasting.settings import Settings

MIN_TOKEN_LENGTH = 24
# Tokens from the examples (deploy/env.example) and other words no one should deploy with.
PLACEHOLDER_TOKENS = frozenset({"change-me", "change-me-too", "changeme", "secret", "token", "password", "test"})


class ServiceSettings(Settings):
    """Read from the environment with the PROVOCAST_ prefix, like every other setting."""

    # How often each worker asks the registry which version is active (and re-reads the election calendar).
    registry_poll_seconds: float = 5.0
    # With no active version at start-up, start one retrain process (under the retrain lock, so only
    # one worker or replica trains; the others wait for its version).
    train_when_empty: bool = True
    # Requests with a bigger body are refused with 413 before they are parsed.
    max_body_bytes: int = 65_536
    max_page_size: int = 500
    # /v1/forecasts/upcoming covers elections from today to this many days ahead.
    upcoming_days: int = 730
    # Longest wait for the store before a request gives up with 503 (PostgreSQL connect timeout).
    store_timeout_seconds: int = 5
    # Forecast responses kept per loaded version (elections, upcoming list, custom windows).
    forecast_cache_size: int = 4096
    # Different charts waiting to be drawn at once (per worker); one more is answered 503 with Retry-After.
    chart_queue_size: int = 4
    # Log lines on stderr: "json" (one object per line, for log collectors) or "text" (for a terminal).
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    # /metrics needs the bearer token when false (set it false when the port is reachable from outside).
    metrics_public: bool = True


def token_problem(token: str | None) -> str | None:
    """Why the service must not start with this write token (a placeholder, or too short), or None.

    The message never repeats the token.
    """
    if not token:
        return None
    if token.strip().lower() in PLACEHOLDER_TOKENS or token.strip().lower().startswith("change-me"):
        return "PROVOCAST_API_TOKEN is a placeholder from the examples; set a long random token"
    if len(token) < MIN_TOKEN_LENGTH:
        return (
            f"PROVOCAST_API_TOKEN has {len(token)} characters; use at least {MIN_TOKEN_LENGTH}, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return None
