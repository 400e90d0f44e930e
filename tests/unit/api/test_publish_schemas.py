"""POST checks data against the schema registry: the pipeline's verdict, given as a 422."""

from __future__ import annotations

from tests.unit.api.conftest import API_KEY, ApiHarness

ORDER = {
    "specversion": "1.0",
    "id": "order-1",
    "source": "//shop.bqingest.example/orders",
    "type": "com.bqingest.shop.order.created",
    "time": "2026-11-29T07:00:00Z",
    "data": {
        "order_id": "1",
        "customer_id": "cust-1",
        "currency": "EUR",
        "items": [{"sku": "SKU-1", "quantity": 1, "unit_price": 2.5}],
        "total": 2.5,
    },
}
HEADERS = {"X-API-Key": API_KEY, "Content-Type": "application/json"}


def post(api: ApiHarness, body: object):
    import json

    return api.client.post("/api/v1/events", content=json.dumps(body), headers=HEADERS)


def test_an_event_that_satisfies_its_schema_is_published(api: ApiHarness) -> None:
    response = post(api, {**ORDER, "data": {**ORDER["data"], "coupon": "ANY-NEW-FIELD"}})
    assert response.status_code == 202, response.text
    assert len(api.publisher.published) == 1


def test_a_schema_violation_is_422_naming_the_pointer_and_the_rule(api: ApiHarness) -> None:
    bad = {**ORDER, "data": {**ORDER["data"], "total": "12.50"}}
    response = post(api, [ORDER, bad])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["reason"] == "schema_violation"
    assert error["field"] == "[1]./total"
    assert "'type'" in error["message"]
    assert api.publisher.published == []  # all or nothing, as for every 422


def test_a_type_without_a_schema_is_accepted_by_default(api: ApiHarness) -> None:
    response = post(api, {**ORDER, "type": "com.example.unregistered"})
    assert response.status_code == 202, response.text


def test_a_type_without_a_schema_is_422_when_unknown_types_are_rejected(harness_factory) -> None:
    api = harness_factory(unknown_types="reject")
    response = post(api, {**ORDER, "type": "com.example.unregistered"})
    assert response.status_code == 422
    assert (response.json()["error"]["reason"], response.json()["error"]["field"]) == (
        "unknown_type",
        "type",
    )
