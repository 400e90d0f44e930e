"""schemathesis against the app's own OpenAPI: hundreds of generated requests, never a 5xx.

Valid and invalid requests are generated for every operation from ``/openapi.json`` and sent to
the app (in process, over fakes), with an API key so POST gets past auth to the contract. Every
response must be a non-5xx that conforms to the documented status codes, media types and schemas.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.unit.api.conftest import API_KEY, build_harness, record

MIN_REQUESTS = 500
EXAMPLES_PER_OPERATION = 110
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SQL_INJECTION_IDS = [
    "1' OR '1'='1",
    "1; DROP TABLE events; --",
    "x` UNION SELECT * FROM `other",
    '" OR ""="',
    "1--",
    "a:b' --",
    "%27%20OR%201%3D1",
    "events_dedup`;--",
    "1 OR 1=1",
    "x'/*",
]


@pytest.fixture
def fuzz_app(tmp_path: Path):
    harness = build_harness(
        tmp_path,
        [record("order-000042"), record("order-000043", minutes=5, subject="orders/43")],
        api_access_log=False,
    )
    with harness.client:
        yield harness


def test_generated_requests_never_get_a_5xx(fuzz_app) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app.app)
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case) -> None:
            response = case.call(headers={"X-API-Key": API_KEY})
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        check()
    total = sum(statuses.values())
    assert total >= MIN_REQUESTS, statuses
    assert not [status for status in statuses if status >= 500], statuses
    # Both the happy paths and the refusals were exercised.
    assert statuses[200] and statuses[202] and statuses[404] and statuses[422], statuses


@pytest.mark.parametrize("event_id", SQL_INJECTION_IDS)
@pytest.mark.parametrize("prefix", ["/api/v1/", "/api/v1/events/"])
def test_ids_that_look_like_sql_injection_get_404_or_422(
    fuzz_app, prefix: str, event_id: str
) -> None:
    response = fuzz_app.client.get(prefix + quote(event_id, safe=""))
    assert response.status_code in (404, 422), response.text
    assert response.json()["error"]["code"] in ("not_found", "invalid_input")
