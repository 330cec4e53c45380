"""The OpenAPI schema fuzzed with schemathesis against the real server: no 5xx, every response as documented.

Every operation of the served schema gets a bounded number of generated
requests, valid ones and invalid ones (schemathesis's positive and negative
modes), derandomised so that a run repeats, sent over
HTTP to a uvicorn process with a model loaded and a seeded store. Each
response must not be a server error, must carry a documented status code and
content type, and its body must match the documented schema. POST /v1/events
is sent with the token (so its validation is what gets fuzzed); other writes
without it (a retrain job per example would not be bounded).
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from service.main import create_app
from service.settings import ServiceSettings
from tests.faults.conftest import Served
from tests.service.conftest import auth

EXAMPLES_PER_OPERATION = 30
AUTHORISED = {("POST", "/v1/events")}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def _operations() -> list[tuple[str, str]]:
    """Every documented (method, path), read from the app's schema (no store needed to build it)."""
    schema = create_app(ServiceSettings(database_url="sqlite://", api_token=None)).openapi()
    return sorted((method.upper(), path) for path, methods in schema["paths"].items() for method in methods)


@pytest.fixture(scope="module")
def schema(served: Served) -> schemathesis.BaseSchema:
    document = httpx.get(served.server.base_url + "/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize(("method", "path"), _operations())
def test_generated_requests_get_documented_answers(  # type: ignore[no-untyped-def]
    schema, served: Served, method: str, path: str, mode: GenerationMode
) -> None:
    operation = schema[path][method]
    headers = auth() if (method, path) in AUTHORISED else {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=served.server.base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip(f"{method} {path} takes no input that could be made invalid")
