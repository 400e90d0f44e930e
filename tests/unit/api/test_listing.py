"""Listing (keyset pages, Link header), NDJSON export and counts over the fake warehouse."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest

from bqingest.api.errors import InvalidInput
from bqingest.api.pagination import decode_cursor, encode_cursor, fingerprint
from bqingest.warehouse.records import EventFilter, Position
from tests.unit.api.conftest import T0, ApiHarness, record

NDJSON = {"Accept": "application/x-ndjson"}


def ids(response) -> list[str]:
    return [item["event"]["id"] for item in response.json()["items"]]


def next_link(response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


def test_pages_follow_the_link_header(harness_factory) -> None:
    api = harness_factory([record(f"e-{i}", minutes=i // 3) for i in range(7)])
    seen: list[str] = []
    url: str | None = "/api/v1/events?limit=3&type=com.example.order.created"
    while url:
        response = api.client.get(url)
        assert response.status_code == 200
        seen += ids(response)
        url = next_link(response)
        assert (url is None) == (response.json()["next_cursor"] is None)
    assert seen == [f"e-{i}" for i in range(7)]


def test_desc_order_and_filters(api: ApiHarness) -> None:
    response = api.client.get("/api/v1/events?order=desc")
    assert ids(response) == ["order-000044", "order-000043", "order-000042"]
    paid = api.client.get("/api/v1/events?type=com.example.order.paid")
    assert ids(paid) == ["order-000044"]
    since = (T0 + timedelta(minutes=1)).isoformat()
    assert ids(api.client.get("/api/v1/events", params={"since": since})) == ["order-000044"]
    assert ids(api.client.get("/api/v1/events", params={"until": since})) == [
        "order-000042",
        "order-000043",
    ]


def test_an_empty_range_is_an_empty_page(api: ApiHarness) -> None:
    response = api.client.get("/api/v1/events?source=nobody")
    assert response.json() == {"items": [], "next_cursor": None}
    assert "link" not in response.headers


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/events/count"])
@pytest.mark.parametrize(
    ("name", "value"),
    [("since", "0001-01-01T00:00:00+01:00"), ("until", "9999-12-31T23:59:59-01:00")],
)
def test_a_time_filter_outside_utc_is_422_invalid_time(
    api: ApiHarness, path: str, name: str, value: str
) -> None:
    response = api.client.get(path, params={name: value})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["reason"]) == (name, "invalid_time")
    assert api.warehouse.calls == []


def test_a_cursor_only_works_for_its_own_listing(api: ApiHarness) -> None:
    first = api.client.get("/api/v1/events?limit=1")
    cursor = first.json()["next_cursor"]
    assert api.client.get("/api/v1/events", params={"limit": 1, "cursor": cursor}).is_success
    other = api.client.get("/api/v1/events", params={"cursor": cursor, "order": "desc"})
    assert other.status_code == 422
    assert "other filters" in other.json()["error"]["message"]


def test_cursor_round_trip_and_tampering() -> None:
    listing = fingerprint(EventFilter(type="t"), "asc")
    position = Position(time=T0 + timedelta(microseconds=7), source="//s?a=b", id="a:b.c~d-e_f")
    assert decode_cursor(encode_cursor(position, listing=listing), listing=listing) == (
        position,
        None,
    )
    carried = encode_cursor(position, listing=listing, since=T0)
    assert decode_cursor(carried, listing=listing) == (position, T0)
    forged = base64.urlsafe_b64encode(
        json.dumps({"v": 2, "t": 0, "s": "x", "i": "x' OR 1=1 --", "f": listing}).encode()
    ).decode()
    older = base64.urlsafe_b64encode(
        json.dumps({"v": 1, "t": 0, "i": "x", "f": listing}).encode()
    ).decode()
    overflow = base64.urlsafe_b64encode(
        json.dumps({"v": 2, "t": 10**20, "s": "x", "i": "x", "f": listing}).encode()
    ).decode()
    for bad in (forged, older, overflow, "!!!", "e30", "bnVsbA"):
        with pytest.raises(InvalidInput):
            decode_cursor(bad, listing=listing)


def test_a_listing_without_since_covers_the_default_window_on_every_page(
    harness_factory,
) -> None:
    # Now is T0 + 1 day; the window is the 2 hours before it. Old events stay out of every page.
    old = [record(f"old-{i}", minutes=-60 * 24 * 3 + i) for i in range(3)]
    recent = [record(f"new-{i}", minutes=60 * 23 + i) for i in range(5)]
    api = harness_factory([*old, *recent], api_default_window_hours=2)
    seen: list[str] = []
    url: str | None = "/api/v1/events?limit=2"
    while url:
        response = api.client.get(url)
        seen += ids(response)
        url = next_link(response)
    assert seen == [f"new-{i}" for i in range(5)]
    counts = api.client.get("/api/v1/events/count").json()
    assert counts["total"] == 5
    assert counts["since"].startswith((T0 + timedelta(hours=22)).isoformat()[:16])
    export = api.client.get("/api/v1/events", headers=NDJSON)
    assert export.headers["x-result-count"] == "5"


def test_the_default_window_stops_at_the_first_representable_time(harness_factory) -> None:
    # An until within the window's length of year 1 used to overflow the window's start (500).
    api = harness_factory([record("e")])
    early = "0001-01-01T01:01:01Z"
    counts = api.client.get("/api/v1/events/count", params={"until": early})
    assert counts.status_code == 200, counts.text
    assert counts.json()["total"] == 0
    assert counts.json()["since"].startswith("0001-01-01T00:00:00")
    listing = api.client.get("/api/v1/events", params={"until": early})
    assert listing.status_code == 200, listing.text
    assert listing.json()["items"] == []
    first = api.client.get("/api/v1/events/count", params={"until": "0001-01-01T00:00:00Z"})
    assert first.status_code == 422
    assert first.json()["error"]["field"] == "until"


def test_events_of_two_sources_with_one_id_are_two_events_in_pages(harness_factory) -> None:
    api = harness_factory(
        [record("same", source="//a"), record("same", source="//b"), record("other")]
    )
    items = api.client.get("/api/v1/events?limit=1").json()
    seen = [(i["event"]["source"], i["event"]["id"]) for i in items["items"]]
    cursor = items["next_cursor"]
    while cursor:
        page = api.client.get("/api/v1/events", params={"limit": 1, "cursor": cursor}).json()
        seen += [(i["event"]["source"], i["event"]["id"]) for i in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == [
        ("//a", "same"),
        ("//b", "same"),
        ("//shop.example.com/orders", "other"),
    ]


def test_ndjson_streams_the_whole_range(harness_factory) -> None:
    api = harness_factory([record(f"e-{i:02d}", minutes=i) for i in range(20)])
    response = api.client.get("/api/v1/events?limit=5", headers=NDJSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["x-result-count"] == "20"
    lines = response.text.splitlines()
    assert [json.loads(line)["event"]["id"] for line in lines] == [f"e-{i:02d}" for i in range(20)]


def test_ndjson_over_the_bound_is_refused_before_any_byte(harness_factory) -> None:
    api = harness_factory([record(f"e-{i}", minutes=i) for i in range(6)], api_export_max_rows=5)
    response = api.client.get("/api/v1/events", headers=NDJSON)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "range_too_large"
    narrowed = api.client.get(
        "/api/v1/events", params={"until": (T0 + timedelta(minutes=5)).isoformat()}, headers=NDJSON
    )
    assert len(narrowed.text.splitlines()) == 5


def test_counts_by_type_and_hour(api: ApiHarness) -> None:
    response = api.client.get("/api/v1/events/count?group_by=type&bucket=hour")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert body["groups"] == [
        {"key": "com.example.order.created", "bucket_start": "2026-11-29T07:00:00Z", "count": 2},
        {"key": "com.example.order.paid", "bucket_start": "2026-11-29T08:00:00Z", "count": 1},
    ]


def test_counts_by_source_over_a_range(api: ApiHarness) -> None:
    response = api.client.get(
        "/api/v1/events/count",
        params={"group_by": "source", "until": (T0 + timedelta(minutes=1)).isoformat()},
    )
    body = response.json()
    assert body["groups"] == [
        {"key": "//shop.example.com/orders", "bucket_start": None, "count": 2}
    ]
    assert (body["group_by"], body["bucket"], body["total"]) == ("source", None, 2)


def test_too_many_groups_is_refused(harness_factory) -> None:
    events = [record(f"e-{i}", type=f"type.{i}") for i in range(4)]
    api = harness_factory(events, api_count_max_groups=3)
    response = api.client.get("/api/v1/events/count")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "range_too_large"
