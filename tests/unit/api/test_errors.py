"""Every error mapping: one body shape, the right status, Retry-After, logs, no internals."""

from __future__ import annotations

import logging
import threading

import pytest
import requests
from google.api_core import exceptions as google

from bqingest.api.errors import ErrorBody
from bqingest.contract import ContractError, Reason
from tests.unit.api.conftest import ApiHarness, record


def error_of(response) -> dict:
    body = response.json()
    ErrorBody.model_validate(body)  # the one schema, always
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body["error"]


def test_not_found_is_404(api: ApiHarness) -> None:
    response = api.client.get("/api/v1/events/nope")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("url", "field", "reason"),
    [
        ("/api/v1/events?limit=1001", "limit", "invalid_value"),
        ("/api/v1/events?limit=ten", "limit", "wrong_type"),
        ("/api/v1/events?since=yesterday", "since", "invalid_time"),
        ("/api/v1/events?since=2026-11-29T07:00:00", "since", "invalid_time"),
        ("/api/v1/events?order=sideways", "order", "invalid_value"),
        ("/api/v1/events?colour=red", "colour", "invalid_value"),
        ("/api/v1/events/count?group_by=subject", "group_by", "invalid_value"),
        (
            "/api/v1/events?since=2026-11-29T08:00:00Z&until=2026-11-29T07:00:00Z",
            "until",
            "invalid_value",
        ),
        ("/api/v1/events?cursor=garbage", "cursor", "invalid_value"),
        ("/api/v1/x%27%20OR%201=1", "id", "invalid_id"),
    ],
)
def test_invalid_input_is_422_with_field_and_reason(
    api: ApiHarness, url: str, field: str, reason: str
) -> None:
    response = api.client.get(url)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"], error["reason"]) == ("invalid_input", field, reason)
    assert api.warehouse.calls == []


def test_warehouse_timeout_is_503_with_retry_after(harness_factory) -> None:
    api = harness_factory([record("a-1")], api_query_timeout_seconds=0.05)
    gate = threading.Event()
    api.warehouse.block = gate
    try:
        response = api.client.get("/api/v1/a-1")
    finally:
        gate.set()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert error_of(response)["code"] == "timeout"
    metrics = api.client.get("/metrics").text
    assert 'bqingest_api_warehouse_errors_total{error="timeout",query="get_event"} 1.0' in metrics


@pytest.mark.parametrize(
    "failure",
    [
        google.ServiceUnavailable("backend down"),
        google.TooManyRequests("quota"),
        google.InternalServerError("oops"),
        requests.ConnectionError("connection refused"),
        ConnectionRefusedError("connection refused"),
    ],
)
def test_warehouse_unavailable_is_503_with_retry_after(api: ApiHarness, failure: Exception) -> None:
    api.warehouse.fail = failure
    response = api.client.get("/api/v1/events")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert error_of(response)["code"] == "unavailable"


def test_google_deadline_is_a_timeout(api: ApiHarness) -> None:
    api.warehouse.fail = google.DeadlineExceeded("slow")
    response = api.client.get("/api/v1/events/count")
    assert (response.status_code, error_of(response)["code"]) == (503, "timeout")


def test_missing_table_is_503_and_a_loud_log_line(
    api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    api.warehouse.fail = google.NotFound(
        "Not found: Table bqingest-test:bqingest.events_dedup was not found in location US"
    )
    with caplog.at_level(logging.WARNING, logger="bqingest.api"):
        response = api.client.get("/api/v1/order-000042")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    error = error_of(response)
    assert error["code"] == "resource_missing"
    assert "events_dedup" not in error["message"]  # no internals in the body...
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1  # ...but a loud line in the log, with the cause
    assert "bootstrap or Terraform" in critical[0].getMessage()
    assert critical[0].exc_info is not None and "events_dedup" in str(critical[0].exc_info[1])


def test_bytes_billed_limit_is_422_asking_for_a_narrower_range(api: ApiHarness) -> None:
    api.warehouse.fail = google.BadRequest(
        "Query exceeded limit for bytes billed",
        errors=[{"reason": "bytesBilledLimitExceeded", "message": "limit"}],
    )
    response = api.client.get("/api/v1/events")
    assert response.status_code == 422
    assert error_of(response)["code"] == "range_too_large"


def test_a_query_bigquery_refuses_is_a_500_without_internals(
    harness_factory, caplog: pytest.LogCaptureFixture
) -> None:
    api = harness_factory([record("a-1")])
    api.warehouse.fail = google.BadRequest("Syntax error: Unexpected keyword SELEC at [1:1]")
    with caplog.at_level(logging.ERROR, logger="bqingest.api"):
        response = api.client.get("/api/v1/a-1")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error"
    assert "SELEC" not in response.text and "Traceback" not in response.text
    assert error["request_id"]
    logged = [r for r in caplog.records if r.name == "bqingest.api.errors"]
    assert logged and logged[0].exc_info is not None  # the stack trace is in the log


def test_an_unexpected_error_is_500_with_the_request_id_only(api: ApiHarness) -> None:
    api.warehouse.fail = RuntimeError("secret internals: password=hunter2")
    response = api.client.get("/api/v1/events", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "internal_error",
        "message": "unexpected error; quote the request id when reporting it",
        "field": None,
        "reason": None,
        "request_id": "req-123",
    }
    assert "hunter2" not in response.text


def test_a_contract_error_anywhere_is_a_422_with_its_field_and_reason(api: ApiHarness) -> None:
    api.warehouse.fail = ContractError(Reason.INVALID_TIME, "time: not RFC 3339", field="time")
    response = api.client.get("/api/v1/events")
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"], error["reason"]) == (
        "invalid_input",
        "time",
        "invalid_time",
    )


def test_a_plain_value_error_below_the_routes_is_a_500_not_a_422(api: ApiHarness) -> None:
    """ValueError from our own code is a bug, not the client's input (the original handler)."""
    api.warehouse.fail = ValueError("bad row")
    assert api.client.get("/api/v1/events").status_code == 500


def test_overload_is_shed_with_503(harness_factory) -> None:
    api = harness_factory([record("a-1")], api_threads=1, api_queue_size=0)
    gate = threading.Event()
    api.warehouse.block = gate
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        first = executor.submit(api.client.get, "/api/v1/a-1")
        while not api.warehouse.calls:
            threading.Event().wait(0.01)
        shed = api.client.get("/api/v1/events")
        gate.set()
        assert first.result().status_code == 200
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert error_of(shed)["code"] == "overloaded"
    assert "bqingest_api_shed_total 1.0" in api.client.get("/metrics").text


def test_unknown_route_and_method_use_the_error_body(api: ApiHarness) -> None:
    missing = api.client.get("/nope")
    assert (missing.status_code, error_of(missing)["code"]) == (404, "not_found")
    wrong = api.client.delete("/api/v1/events")
    assert (wrong.status_code, error_of(wrong)["code"]) == (405, "method_not_allowed")
