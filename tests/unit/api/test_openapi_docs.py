"""/docs documents every endpoint, with examples."""

from __future__ import annotations

from tests.unit.api.conftest import ApiHarness

OPERATIONS = {
    ("/api/v1/{id}", "get"),
    ("/api/v1/events/{id}", "get"),
    ("/api/v1/events", "get"),
    ("/api/v1/events", "post"),
    ("/api/v1/events/count", "get"),
    ("/api/v1/types", "get"),
    ("/api/v1/types/{type}", "get"),
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/metrics", "get"),
}


def test_every_endpoint_is_documented_with_examples(api: ApiHarness) -> None:
    schema = api.client.get("/openapi.json").json()
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert documented == OPERATIONS
    paths = schema["paths"]
    for path in ("/api/v1/{id}", "/api/v1/events/{id}"):
        operation = paths[path]["get"]
        assert operation["responses"]["200"]["content"]["application/json"]["example"]
        assert {"304", "404", "422", "503"} <= set(operation["responses"])
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["id"]["schema"]["pattern"]
        assert parameters["id"]["examples"]["order"]["value"] == "order-000042"
        assert "If-None-Match" in parameters
    listing = paths["/api/v1/events"]["get"]
    assert set(listing["responses"]["200"]["content"]) == {
        "application/json",
        "application/x-ndjson",
    }
    assert {p["name"] for p in listing["parameters"]} >= {"type", "since", "until", "cursor"}
    post = paths["/api/v1/events"]["post"]
    assert set(post["requestBody"]["content"]["application/json"]["examples"]) == {"one", "batch"}
    assert "202" in post["responses"] and post["security"] == [{"APIKeyHeader": []}]
    assert "ErrorBody" in schema["components"]["schemas"]


def test_docs_page_is_served(api: ApiHarness) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()


def test_closed_reads_are_documented_as_needing_the_key(harness_factory) -> None:
    open_schema = harness_factory().client.get("/openapi.json").json()
    closed_schema = harness_factory(public_read=False).client.get("/openapi.json").json()
    assert "security" not in open_schema["paths"]["/api/v1/{id}"]["get"]
    assert closed_schema["paths"]["/api/v1/{id}"]["get"]["security"] == [{"APIKeyHeader": []}]
    assert "401" in closed_schema["paths"]["/api/v1/{id}"]["get"]["responses"]
