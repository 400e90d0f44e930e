"""GET an event by id: the original two cases, both paths, the cache, ETag and 304."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from bqingest.contract import parse_event_json
from tests.unit.api.conftest import ApiHarness, record


def test_a_known_id_returns_its_data(api: ApiHarness) -> None:
    """Original case 1: the event comes back with its data, envelope and ingestion metadata."""
    response = api.client.get("/api/v1/order-000042")
    assert response.status_code == 200
    body = response.json()
    assert body["event"]["id"] == "order-000042"
    assert body["event"]["data"] == {"order_id": "order-000042", "amount": 12.5}
    assert body["event"]["time"] == "2026-11-29T07:00:00Z"
    assert body["ingestion"]["message_id"] == "m-order-000042"
    assert body["ingestion"]["publish_time"] == "2026-11-29T07:00:01Z"


def test_an_invalid_id_fails(api: ApiHarness) -> None:
    """Original case 2: an id outside the contract's pattern is refused before any query."""
    response = api.client.get("/api/v1/not%20an%20id")
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"], error["reason"]) == ("invalid_input", "id", "invalid_id")
    assert api.warehouse.calls == []


def test_an_absent_id_is_404(api: ApiHarness) -> None:
    response = api.client.get("/api/v1/events/order-999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_canonical_path_reaches_ids_that_are_route_names(harness_factory) -> None:
    api = harness_factory([record("events"), record("count", minutes=1)])
    assert api.client.get("/api/v1/events/events").json()["event"]["id"] == "events"
    assert api.client.get("/api/v1/events/count").status_code == 200  # the counts, not the event
    assert "groups" in api.client.get("/api/v1/events/count").json()
    assert api.client.get("/api/v1/count").json()["event"]["id"] == "count"


def test_the_served_event_is_a_valid_cloudevent(harness_factory) -> None:
    stored = record("order-1", subject="orders/1", extensions={"tenant": "acme", "priority": 3})
    api = harness_factory([stored])
    event = api.client.get("/api/v1/events/order-1").json()["event"]
    assert event["tenant"] == "acme" and event["priority"] == 3
    assert "dataschema" not in event  # absent attributes are left out, not null
    parsed = parse_event_json(json.dumps(event))
    assert (parsed.id, parsed.subject, parsed.extensions["tenant"]) == (
        "order-1",
        "orders/1",
        "acme",
    )


def test_hits_are_served_from_the_cache(api: ApiHarness) -> None:
    for _ in range(3):
        assert api.client.get("/api/v1/order-000042").status_code == 200
    assert api.warehouse.calls == ["get_event"]
    metrics = api.client.get("/metrics").text
    assert 'bqingest_api_cache_events_total{cache="event",result="hit"} 2.0' in metrics
    assert 'bqingest_api_cache_events_total{cache="event",result="miss"} 1.0' in metrics


def test_absent_ids_are_remembered_briefly(harness_factory) -> None:
    # A TTL no loaded machine outlasts: the default 2 s once expired between these requests.
    api = harness_factory(api_negative_cache_ttl_seconds=300)
    for _ in range(3):
        assert api.client.get("/api/v1/order-999").status_code == 404
    assert api.warehouse.calls == ["get_event"]


def test_negative_cache_expires(harness_factory) -> None:
    api = harness_factory(api_negative_cache_ttl_seconds=0)
    api.client.get("/api/v1/order-999")
    api.client.get("/api/v1/order-999")
    assert api.warehouse.calls == ["get_event", "get_event"]


def test_cache_can_be_turned_off(harness_factory) -> None:
    api = harness_factory([record("a-1")], api_cache_max_bytes=0)
    api.client.get("/api/v1/a-1")
    api.client.get("/api/v1/a-1")
    assert api.warehouse.calls == ["get_event", "get_event"]


def test_etag_and_cache_control_then_304(api: ApiHarness) -> None:
    first = api.client.get("/api/v1/events/order-000042")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "public, max-age=300"
    again = api.client.get("/api/v1/events/order-000042", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = api.client.get("/api/v1/order-000042", headers={"If-None-Match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    other = api.client.get("/api/v1/order-000042", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.json()["event"]["id"] == "order-000042"


def test_private_reads_are_not_publicly_cacheable(harness_factory) -> None:
    from tests.unit.api.conftest import API_KEY

    api = harness_factory([record("a-1")], public_read=False)
    response = api.client.get("/api/v1/a-1", headers={"X-API-Key": API_KEY})
    assert response.headers["cache-control"].startswith("private")


def test_concurrent_misses_for_one_id_share_one_query(harness_factory) -> None:
    api = harness_factory([record("a-1")])
    gate = threading.Event()
    api.warehouse.block = gate
    controller = api.controllers.events

    async def ask_many() -> list[bytes]:
        tasks = [asyncio.ensure_future(controller.get_event("a-1")) for _ in range(5)]
        await asyncio.sleep(0.05)
        gate.set()
        return [rendered.body for rendered in await asyncio.gather(*tasks)]

    bodies = asyncio.run(ask_many())
    assert len(set(bodies)) == 1
    assert api.warehouse.calls == ["get_event"]


@pytest.mark.parametrize("path", ["/api/v1/a-1", "/api/v1/events/a-1"])
def test_both_paths_share_the_cache(harness_factory, path: str) -> None:
    api = harness_factory([record("a-1")])
    api.client.get("/api/v1/a-1")
    assert api.client.get(path).status_code == 200
    assert api.warehouse.calls == ["get_event"]


def test_an_id_two_sources_used_is_409_with_the_sources_and_source_chooses(
    harness_factory,
) -> None:
    api = harness_factory(
        [record("shared-1", source="//b/orders"), record("shared-1", source="//a/orders")]
    )
    for path in ("/api/v1/shared-1", "/api/v1/events/shared-1"):
        response = api.client.get(path)
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "ambiguous_id"
        assert error["choices"] == ["//a/orders", "//b/orders"]
        assert error["field"] == "source" and "?source=" in error["message"]
    chosen = api.client.get("/api/v1/shared-1", params={"source": "//b/orders"})
    assert chosen.status_code == 200
    assert chosen.json()["event"]["source"] == "//b/orders"
    canonical = api.client.get("/api/v1/events/shared-1", params={"source": "//a/orders"})
    assert canonical.json()["event"]["source"] == "//a/orders"
    assert canonical.headers["etag"] != chosen.headers["etag"]
    missing = api.client.get("/api/v1/shared-1", params={"source": "//c"})
    assert missing.status_code == 404
    assert "from source '//c'" in missing.json()["error"]["message"]


def test_one_source_per_id_answers_without_source_and_caches_per_source(
    harness_factory,
) -> None:
    api = harness_factory([record("only-1", source="//a")])
    assert api.client.get("/api/v1/only-1").status_code == 200
    assert api.client.get("/api/v1/only-1").status_code == 200
    assert api.client.get("/api/v1/only-1?source=//a").status_code == 200
    assert api.warehouse.calls == ["get_event", "get_event"]  # once per (id, source) key


def test_errors_without_choices_or_accepted_leave_those_fields_out(api: ApiHarness) -> None:
    error = api.client.get("/api/v1/nope-1").json()["error"]
    assert "choices" not in error and "accepted" not in error


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?source=", "source: String should have at least 1 character"),
        ("?source", "source: String should have at least 1 character"),
        ("?source=a&source=", "source: String should have at least 1 character"),
        ("?source=" + "s" * 1025, "source: String should have at most 1024 characters"),
    ],
)
def test_a_bad_source_is_422_on_both_by_id_paths(api: ApiHarness, query: str, message: str) -> None:
    for path in ("/api/v1/order-000042", "/api/v1/events/order-000042"):
        response = api.client.get(path + query)
        assert response.status_code == 422
        error = response.json()["error"]
        assert (error["field"], error["reason"], error["message"]) == (
            "source",
            "invalid_value",
            message,
        )


def test_the_last_source_given_counts_and_other_parameters_are_ignored(api: ApiHarness) -> None:
    source = "//shop.example.com/orders"
    assert api.client.get(f"/api/v1/order-000042?source=&source={source}").status_code == 200
    assert api.client.get("/api/v1/order-000042?Source=x&limit=3").status_code == 200


def test_the_by_id_routes_document_source_and_if_none_match(api: ApiHarness) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/{id}", "/api/v1/events/{id}"):
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert list(parameters) == ["id", "source", "If-None-Match"]
        source = parameters["source"]
        assert (source["in"], source["required"]) == ("query", False)
        assert source["schema"]["anyOf"][0] == {"type": "string", "minLength": 1, "maxLength": 1024}


def test_the_by_id_routes_declare_source_and_if_none_match_the_framework_s_way(
    api: ApiHarness,
) -> None:
    """Declared as ``Query``/``Header`` parameters on an ``APIRouter``, not read from the request
    and documented by hand: FastAPI validates, documents and shows them in editors."""
    from fastapi.routing import APIRoute, APIRouter, iter_route_contexts

    by_id = [
        context.route
        for context in iter_route_contexts(api.app.router.routes)
        if isinstance(context.route, APIRoute)
        and context.route.path in ("/api/v1/{id}", "/api/v1/events/{id}")
    ]
    assert len(by_id) == 2
    for route in by_id:
        assert route.openapi_extra is None
        assert [p.alias for p in route.dependant.query_params] == ["source"]
        assert [p.alias for p in route.dependant.header_params] == ["If-None-Match"]
    included = [getattr(route, "original_router", None) for route in api.app.router.routes]
    assert any(isinstance(router, APIRouter) for router in included)


def test_the_benchmark_s_bare_endpoint_declares_the_same_parameters(api: ApiHarness) -> None:
    """benchmarks/bench_api.py's baseline: FastAPI's work for the declarations is in both."""
    from benchmarks.bare_app import app as bare

    ours = api.client.get("/openapi.json").json()["paths"]["/api/v1/{id}"]["get"]["parameters"]
    assert bare.openapi()["paths"]["/api/v1/{id}"]["get"]["parameters"] == ours
