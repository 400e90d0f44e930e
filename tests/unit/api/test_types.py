"""GET /api/v1/types, /api/v1/types/{type}, and data.<field> filters on the events listing."""

from __future__ import annotations

import pytest

from tests.unit.api.conftest import ApiHarness, record

ORDER = "com.bqingest.shop.order.created"


def order(event_id: str, *, minutes: float, total: float, currency: str = "EUR"):
    data = {"order_id": event_id, "customer_id": "c", "currency": currency, "total": total}
    return record(event_id, minutes=minutes, type=ORDER, data=data)


@pytest.fixture
def orders(harness_factory) -> ApiHarness:
    events = [order(f"o-{i}", minutes=i, total=10.0 if i % 2 else 12.5) for i in range(9)]
    return harness_factory([*events, record("other")])


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["event"]["id"] for item in response.json()["items"]]


def test_types_lists_versions_views_and_typed_columns(api: ApiHarness) -> None:
    response = api.client.get("/api/v1/types")
    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()["types"]}
    assert ORDER in types and types[ORDER]["current_version"] == 1
    (version,) = types[ORDER]["versions"]
    assert version["view"] == "events_shop_order_created_v1"
    columns = {c["name"]: c for c in version["columns"]}
    assert columns["total"] == {
        "name": "total",
        "type": "FLOAT64",
        "pointer": "/total",
        "filterable": True,
    }
    assert columns["items"]["type"].startswith("ARRAY<STRUCT<")
    assert not columns["items"]["filterable"]


def test_a_type_s_schema(api: ApiHarness) -> None:
    response = api.client.get(f"/api/v1/types/{ORDER}")
    assert response.status_code == 200
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "total" in schema["properties"]
    assert api.client.get(f"/api/v1/types/{ORDER}?version=1").json() == schema
    missing = api.client.get(f"/api/v1/types/{ORDER}?version=7")
    assert missing.status_code == 404
    assert api.client.get("/api/v1/types/com.example.none").status_code == 404


def test_an_event_whose_id_is_types_stays_reachable(harness_factory) -> None:
    api = harness_factory([record("types")])
    assert api.client.get("/api/v1/events/types").json()["event"]["id"] == "types"


def test_data_filter_on_a_declared_scalar_with_keyset_pages(orders: ApiHarness) -> None:
    url: str | None = f"/api/v1/events?type={ORDER}&data.total=12.5&limit=2"
    seen: list[str] = []
    while url:
        response = orders.client.get(url)
        seen += ids(response)
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None
    assert seen == ["o-0", "o-2", "o-4", "o-6", "o-8"]
    both = orders.client.get(f"/api/v1/events?type={ORDER}&data.total=10&data.currency=EUR")
    assert ids(both) == ["o-1", "o-3", "o-5", "o-7"]


def test_a_cursor_is_bound_to_its_data_filters(orders: ApiHarness) -> None:
    first = orders.client.get(f"/api/v1/events?type={ORDER}&data.total=12.5&limit=2")
    cursor = first.json()["next_cursor"]
    other = orders.client.get(f"/api/v1/events?type={ORDER}&data.total=10&cursor={cursor}")
    assert other.status_code == 422


def test_an_undeclared_field_is_422_listing_the_declared(orders: ApiHarness) -> None:
    response = orders.client.get(f"/api/v1/events?type={ORDER}&data.gift_wrap=X")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "data.gift_wrap"
    assert set(error["choices"]) == {
        "data.order_id",
        "data.customer_id",
        "data.currency",
        "data.total",
        "data.coupon",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("data.total=12.5", "data.total"),  # no type
        (f"type={ORDER}&data.total=much", "data.total"),
        (f"type={ORDER}&data.items=1", "data.items"),  # not a scalar
        ("type=com.example.order.created&data.total=1", "type"),  # no schema
    ],
)
def test_data_filters_that_cannot_apply_are_422(orders: ApiHarness, query: str, field: str) -> None:
    response = orders.client.get(f"/api/v1/events?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_other_unknown_parameters_are_still_refused(orders: ApiHarness) -> None:
    response = orders.client.get("/api/v1/events?colour=red")
    assert (response.status_code, response.json()["error"]["field"]) == (422, "colour")
