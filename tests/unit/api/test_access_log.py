"""The access line AccessLog writes is the line StructuredLogHandler wrote for the same request
through ``logging`` (same keys, same values): only the source location differs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bqingest.api.logs import (
    ACCESS_LOGGER,
    RequestContext,
    configure_logging,
    current_request,
)
from tests.conftest import local_settings

HTTP_REQUEST = {
    "requestMethod": "GET",
    "requestUrl": "/api/v1/order-42?source=%2F%2Fshop",
    "status": 200,
    "responseSize": "349",
    "userAgent": "curl/8 é",
    "remoteIp": "10.0.0.1",
    "protocol": "HTTP/1.1",
    "latency": "0.000412s",
}
CONTEXTS = [
    RequestContext("r-1"),
    RequestContext("r-2", "105445aa7843bc8bf206b12000100000", "0000000000000001", True),
    RequestContext("r-3", "105445aa7843bc8bf206b12000100000", None, None),
    RequestContext("r-4", "105445aa7843bc8bf206b12000100000", "00000000000000ff", False),
    None,
]


def _lines(out: str) -> list[dict[str, Any]]:
    return [
        line
        for line in map(json.loads, out.splitlines())
        if line.get("logging.googleapis.com/labels", {}).get("python_logger") == ACCESS_LOGGER
    ]


@pytest.mark.parametrize("context", CONTEXTS)
def test_same_line_as_the_structured_log_handler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], context: RequestContext | None
) -> None:
    access_log = configure_logging(local_settings(tmp_path, project="acme-data-prod"))
    capsys.readouterr()
    token = current_request.set(context)
    try:
        logging.getLogger(ACCESS_LOGGER).info(
            "GET /api/v1/order-42 200", extra={"http_request": HTTP_REQUEST}
        )
        access_log.write(HTTP_REQUEST, message="GET /api/v1/order-42 200", context=context)
    finally:
        current_request.reset(token)
    through_logging, written = _lines(capsys.readouterr().out)
    location = "logging.googleapis.com/sourceLocation"
    assert written.pop(location)["function"] == "write"
    through_logging.pop(location)
    assert written == through_logging
    assert list(written) == list(through_logging)


def test_nothing_is_written_when_the_access_logger_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    access_log = configure_logging(local_settings(tmp_path, api_log_level="WARNING"))
    capsys.readouterr()
    access_log.write(HTTP_REQUEST, message="GET / 200", context=None)
    assert capsys.readouterr().out == ""


def test_the_app_writes_one_access_line_per_request_only_when_asked(
    harness_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = harness_factory(api_access_log=False)
    capsys.readouterr()
    quiet.client.get("/healthz")
    assert _lines(capsys.readouterr().out) == []
    logged = harness_factory(api_access_log=True)
    capsys.readouterr()
    logged.client.get("/healthz", headers={"X-Request-ID": "req-7"})
    (line,) = _lines(capsys.readouterr().out)
    assert line["request_id"] == "req-7"
    assert line["message"] == "GET /healthz 200"
    assert line["httpRequest"]["status"] == 200
