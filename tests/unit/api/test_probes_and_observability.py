"""Probes, metrics, request ids and Cloud Logging's JSON lines with the trace."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from fastapi.testclient import TestClient
from google.api_core import exceptions as google

from bqingest.api.logs import RequestContext, current_request, parse_trace
from tests.unit.api.conftest import ApiHarness

METRIC_NAMES = (
    "bqingest_api_requests_total",
    "bqingest_api_request_duration_seconds",
    "bqingest_api_inflight_requests",
    "bqingest_api_warehouse_query_duration_seconds",
    "bqingest_api_warehouse_errors_total",
    "bqingest_api_warehouse_pending_calls",
    "bqingest_api_shed_total",
    "bqingest_api_cache_events_total",
    "bqingest_api_cache_entries",
    "bqingest_api_published_events_total",
    "bqingest_api_rejected_events_total",
)


def test_healthz_calls_nothing(api: ApiHarness) -> None:
    api.warehouse.fail = RuntimeError("must not be called")
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_both_answer(api: ApiHarness) -> None:
    response = api.client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["warehouse"]["ok"] and body["checks"]["pubsub"]["ok"]


def test_readyz_is_503_when_one_fails(api: ApiHarness) -> None:
    api.publisher.fail = google.ServiceUnavailable("down")
    response = api.client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["warehouse"]["ok"] is True
    assert checks["pubsub"] == {
        "ok": False,
        "seconds": checks["pubsub"]["seconds"],
        "error": "unavailable",
    }


def test_readyz_does_not_wait_past_its_deadline(harness_factory) -> None:
    api = harness_factory(api_readiness_timeout_seconds=0.05)
    gate = threading.Event()
    api.warehouse.block = gate
    try:
        response = api.client.get("/readyz")
    finally:
        gate.set()
    assert response.status_code == 503
    assert response.json()["checks"]["warehouse"]["error"] == "timeout"


def test_metrics_expose_every_documented_name(api: ApiHarness) -> None:
    api.client.get("/api/v1/order-000042")
    text = api.client.get("/metrics").text
    for name in METRIC_NAMES:
        assert f"# HELP {name} " in text
    assert 'bqingest_api_requests_total{method="GET",route="/api/v1/{id}",status="200"} 1.0' in text
    assert 'bqingest_api_warehouse_query_duration_seconds_count{query="get_event"} 1.0' in text


def test_route_labels_are_templates_never_raw_paths(api: ApiHarness) -> None:
    for i in range(5):
        api.client.get(f"/api/v1/events/id-{i}")
        api.client.get(f"/no/such/path/{i}")
    text = api.client.get("/metrics").text
    assert "id-3" not in text and "/no/such" not in text
    assert 'route="/api/v1/events/{id}",status="404"} 5.0' in text
    assert 'route="unmatched",status="404"} 5.0' in text


def test_each_app_has_its_own_registry(harness_factory) -> None:
    first, second = harness_factory(), harness_factory()
    first.client.get("/healthz")
    assert 'route="/healthz"' in first.client.get("/metrics").text
    assert 'route="/healthz"' not in second.client.get("/metrics").text


def test_every_response_has_a_request_id(api: ApiHarness) -> None:
    generated = api.client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert (
        api.client.get("/healthz", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"]
        == "abc-1"
    )
    forged = api.client.get("/healthz", headers={"X-Request-ID": "evil\tvalue"})
    assert forged.headers["x-request-id"] != "evil\tvalue"
    assert api.client.get("/nope").headers["x-request-id"]


def test_access_log_is_cloud_logging_json_with_the_trace(
    harness_factory, capsys: pytest.CaptureFixture[str]
) -> None:
    api = harness_factory(project="acme-data-prod")
    capsys.readouterr()
    api.client.get(
        "/api/v1/events?limit=2",
        headers={
            "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
            "User-Agent": "curl/8",
        },
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    access = next(
        line
        for line in lines
        if line.get("logging.googleapis.com/labels", {}).get("python_logger")
        == "bqingest.api.access"
    )
    assert access["severity"] == "INFO"
    assert access["message"] == "GET /api/v1/events 200"
    assert access["logging.googleapis.com/trace"] == (
        "projects/acme-data-prod/traces/105445aa7843bc8bf206b12000100000"
    )
    assert access["logging.googleapis.com/spanId"] == "0000000000000001"
    assert access["logging.googleapis.com/trace_sampled"] is True
    request = access["httpRequest"]
    assert request["requestMethod"] == "GET"
    assert request["requestUrl"] == "/api/v1/events?limit=2"
    assert request["status"] == 200
    assert request["userAgent"] == "curl/8"
    assert request["latency"].endswith("s")
    assert access["request_id"]


@pytest.mark.parametrize(
    ("cloud", "traceparent", "expected"),
    [
        (
            "105445aa7843bc8bf206b12000100000/1;o=1",
            None,
            ("105445aa7843bc8bf206b12000100000", "0000000000000001", True),
        ),
        (
            "105445AA7843BC8BF206B12000100000",
            None,
            ("105445aa7843bc8bf206b12000100000", None, None),
        ),
        (
            None,
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", True),
        ),
        ("garbage", None, (None, None, None)),
        (
            "105445aa7843bc8bf206b12000100000/99999999999999999999",
            None,
            ("105445aa7843bc8bf206b12000100000", None, None),
        ),
    ],
)
def test_parse_trace(cloud, traceparent, expected) -> None:
    assert parse_trace(cloud, traceparent) == expected


def test_stack_traces_go_in_the_message_and_request_ids_outside_a_request_do_not(
    harness_factory, capsys: pytest.CaptureFixture[str]
) -> None:
    harness_factory(project="acme-data-prod")  # configures the root logger's handler
    capsys.readouterr()
    log = logging.getLogger("bqingest.test")
    token = current_request.set(RequestContext("r-1"))
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        current_request.reset(token)
    log.warning("outside")
    inside, outside = (
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"bqingest.test"' in line
    )
    assert inside["severity"] == "ERROR"
    assert inside["message"].startswith("failed\nTraceback")
    assert "ValueError: boom" in inside["message"]
    assert inside["request_id"] == "r-1"
    assert inside["logging.googleapis.com/trace"] == ""
    assert "request_id" not in outside


def test_readyz_answers_a_flood_of_probes_with_one_round_of_checks(api: ApiHarness) -> None:
    """Each answer costs two Google calls through the warehouse pool: one round per TTL."""
    for _ in range(20):
        assert api.client.get("/readyz").status_code == 200
    assert api.warehouse.calls.count("check") == 1


def test_readyz_checks_again_once_its_answer_is_old() -> None:
    import asyncio

    from bqingest.api.controllers.probes import ProbesController
    from bqingest.api.metrics import build_metrics
    from bqingest.api.pool import WarehousePool

    now = [0.0]
    calls: list[str] = []
    metrics = build_metrics()
    pool = WarehousePool(threads=1, queue_size=1, deadline=1.0, metrics=metrics)
    controller = ProbesController(
        checks={"warehouse": lambda: calls.append("check")},
        pool=pool,
        deadline=1.0,
        registry=metrics.registry,
        ttl=2.0,
        clock=lambda: now[0],
    )

    async def probe() -> None:
        await controller.readiness()

    try:
        asyncio.run(probe())
        now[0] = 1.9
        asyncio.run(probe())
        assert calls == ["check"]
        now[0] = 2.1
        asyncio.run(probe())
        assert calls == ["check", "check"]
    finally:
        pool.shutdown()


def test_metrics_need_a_read_key_when_reads_do(harness_factory) -> None:
    from tests.unit.api.conftest import API_KEY

    closed = harness_factory(public_read=False)
    assert closed.client.get("/metrics").status_code == 401
    assert closed.client.get("/metrics", headers={"X-API-Key": API_KEY}).status_code == 200
    assert harness_factory().client.get("/metrics").status_code == 200  # public reads


def test_swagger_ui_is_served_locally_only(harness_factory, tmp_path) -> None:
    from bqingest.api.main import create_app
    from bqingest.api.security import hash_api_key
    from bqingest.config import ApiSettings
    from tests.unit.api.conftest import API_KEY, FakePublisher, FakeWarehouse

    assert harness_factory().client.get("/docs").status_code == 200
    cloud = ApiSettings(  # type: ignore[call-arg]
        _env_file=None,
        environment="prod",
        project="acme-data-prod",
        api_keys=hash_api_key(API_KEY),
    )
    app = create_app(cloud, reader=FakeWarehouse(), publisher=FakePublisher())
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 200
