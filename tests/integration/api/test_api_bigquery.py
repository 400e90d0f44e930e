"""The API against bqemulator and the Pub/Sub emulator, with rows written through the schema."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from google.cloud import bigquery, pubsub_v1
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bqingest import clients
from bqingest.api.security import hash_api_key
from bqingest.config import LocalSettings
from bqingest.contract import MessageContext, parse_message
from tests.integration.api.conftest import (
    API_KEY,
    T0,
    api_settings,
    delivery,
    event,
    seed,
    serving,
)


def test_an_ingested_event_is_returned_with_its_data(
    bootstrapped: LocalSettings, bq: bigquery.Client, api_client: TestClient
) -> None:
    body = event("order-000042", subject="orders/42", tenant="acme")
    seed(bq, bootstrapped, [delivery(body, message_id="111", attributes={"origin": "test"})])
    for path in ("/api/v1/order-000042", "/api/v1/events/order-000042"):
        response = api_client.get(path)
        assert response.status_code == 200, response.text
        served = response.json()
        assert served["event"] == {**body, "time": "2026-11-29T07:00:00Z"}
        assert served["ingestion"]["message_id"] == "111"
        assert served["ingestion"]["attributes"] == {"origin": "test"}
        assert served["ingestion"]["publish_time"] == "2026-11-29T07:00:01Z"
    assert api_client.get("/api/v1/order-000099").status_code == 404


def test_a_redelivered_event_is_served_once_earliest_publish_wins(
    bootstrapped: LocalSettings, bq: bigquery.Client, api_client: TestClient
) -> None:
    body = event("dup-1")
    seed(
        bq,
        bootstrapped,
        [
            delivery(body, message_id="late", after_seconds=30),
            delivery(body, message_id="early", after_seconds=2),
        ],
    )
    assert api_client.get("/api/v1/dup-1").json()["ingestion"]["message_id"] == "early"
    listed = api_client.get("/api/v1/events").json()["items"]
    assert [item["event"]["id"] for item in listed] == ["dup-1"]


@pytest.mark.parametrize("event_id", ["1--", "x:--", "a.b~c-", "OR~1", "--"])
def test_ids_that_look_like_sql_reach_the_query_as_a_value(
    bootstrapped: LocalSettings, bq: bigquery.Client, event_id: str
) -> None:
    seed(bq, bootstrapped, [delivery(event("real-1"))])
    uncached = api_settings(bootstrapped, api_negative_cache_ttl_seconds=0)
    with TestClient(serving(uncached)) as client:
        assert client.get(f"/api/v1/events/{event_id}").status_code == 404
        seed(bq, bootstrapped, [delivery(event(event_id))])
        assert client.get(f"/api/v1/events/{event_id}").json()["event"]["id"] == event_id


def test_a_missing_table_is_503_not_an_empty_answer(
    bootstrapped: LocalSettings, caplog: pytest.LogCaptureFixture
) -> None:
    """bqemulator answers a query on a missing table with an empty result; we still raise."""
    broken = api_settings(bootstrapped, events_table="no_such_table")
    with TestClient(serving(broken)) as client, caplog.at_level(logging.CRITICAL):
        by_id = client.get("/api/v1/some-id")
        listing = client.get("/api/v1/events")
        ready = client.get("/readyz")
    for response in (by_id, listing):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "resource_missing"
        assert response.headers["retry-after"] == "1"
    assert ready.status_code == 503
    assert ready.json()["checks"]["warehouse"]["error"] == "resource_missing"
    assert any("no_such_table" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_readyz_when_everything_answers(api_client: TestClient) -> None:
    response = api_client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


def test_counts_per_type_and_hour(
    bootstrapped: LocalSettings, bq: bigquery.Client, api_client: TestClient
) -> None:
    seed(
        bq,
        bootstrapped,
        [
            delivery(event("c-1", minutes=5)),
            delivery(event("c-2", minutes=50)),
            delivery(event("c-3", minutes=70, type="com.example.order.paid")),
            delivery(event("c-4", minutes=24 * 60)),
        ],
    )
    hourly = api_client.get(
        "/api/v1/events/count",
        params={"bucket": "hour", "until": (T0 + timedelta(hours=2)).isoformat()},
    ).json()
    assert hourly["groups"] == [
        {"key": "com.example.order.created", "bucket_start": "2026-11-29T07:00:00Z", "count": 2},
        {"key": "com.example.order.paid", "bucket_start": "2026-11-29T08:00:00Z", "count": 1},
    ]
    by_source = api_client.get("/api/v1/events/count", params={"group_by": "source"}).json()
    assert by_source["groups"] == [
        {"key": "//shop.example.com/orders", "bucket_start": None, "count": 4}
    ]
    daily = api_client.get("/api/v1/events/count", params={"bucket": "day"}).json()
    assert [(g["bucket_start"][:10], g["count"]) for g in daily["groups"]] == [
        ("2026-11-29", 2),
        ("2026-11-29", 1),
        ("2026-11-30", 1),
    ]
    # The default window before an until in year 1 starts at the warehouse's first instant.
    earliest = api_client.get("/api/v1/events/count", params={"until": "0001-01-01T01:01:01Z"})
    assert earliest.status_code == 200, earliest.text
    assert earliest.json()["total"] == 0


def test_ndjson_export_streams_the_range(
    bootstrapped: LocalSettings, bq: bigquery.Client, api_client: TestClient
) -> None:
    seed(bq, bootstrapped, [delivery(event(f"x-{i:02d}", minutes=i)) for i in range(12)])
    response = api_client.get(
        "/api/v1/events",
        params={"since": (T0 + timedelta(minutes=2)).isoformat(), "order": "desc"},
        headers={"Accept": "application/x-ndjson"},
    )
    assert response.status_code == 200
    assert response.headers["x-result-count"] == "10"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["event"]["id"] for line in lines] == [f"x-{i:02d}" for i in range(11, 1, -1)]


def test_post_publishes_what_the_pipeline_will_accept(
    bootstrapped: LocalSettings, api_client: TestClient, subscriber: pubsub_v1.SubscriberClient
) -> None:
    no_id = {k: v for k, v in event("ignored").items() if k != "id"}
    response = api_client.post(
        "/api/v1/events",
        json=[event("p-1"), no_id],
        headers={"X-API-Key": API_KEY, "Idempotency-Key": "post-test-1"},
    )
    assert response.status_code == 202, response.text
    ids = response.json()["ids"]
    received = []
    for _ in range(20):
        pulled = subscriber.pull(
            subscription=bootstrapped.subscription_path, max_messages=10, timeout=5
        )
        received += pulled.received_messages
        if len(received) >= 2:
            break
    subscriber.acknowledge(
        subscription=bootstrapped.subscription_path, ack_ids=[m.ack_id for m in received]
    )
    parsed = []
    for item in received:
        message = item.message
        context = MessageContext(
            message_id=message.message_id,
            publish_time=message.publish_time,
            attributes=dict(message.attributes),
        )
        parsed.append(parse_message(message.data, context))
    assert sorted(e.id for e in parsed) == sorted(ids)
    key_name = "key-" + hash_api_key(API_KEY).removeprefix("sha256:")[:8]  # a bare digest
    assert all(
        dict(m.message.attributes)
        == {"content-type": "application/cloudevents+json", "bqingest-key": key_name}
        for m in received
    )


def test_post_to_a_missing_topic_is_503(bootstrapped: LocalSettings) -> None:
    broken = api_settings(bootstrapped, topic="no-such-topic")
    with TestClient(serving(broken)) as client:
        response = client.post("/api/v1/events", json=event("p-2"), headers={"X-API-Key": API_KEY})
        ready = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "resource_missing"
    assert ready.json()["checks"]["pubsub"]["error"] == "resource_missing"


# --- pagination against the real SQL, over one seeded dataset ---------------------------

TYPES = ("t.a", "t.b")
# 24 events over 5 distinct times: many ties, which keyset paging must order by id.
PAGED = [event(f"k-{(i * 7) % 24:02d}", minutes=i % 5, type=TYPES[i % 2]) for i in range(24)]


@pytest.fixture(scope="module")
def paged_client(shared_dataset: LocalSettings):
    bq = clients.bigquery_client(shared_dataset.endpoints)
    seed(bq, shared_dataset, [delivery(body) for body in PAGED])
    bq.close()
    with TestClient(serving(api_settings(shared_dataset))) as client:
        yield client


@hypothesis_settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    limit=st.integers(3, 9),
    order=st.sampled_from(["asc", "desc"]),
    kind=st.none() | st.sampled_from(TYPES),
    since=st.none() | st.integers(0, 3),
)
def test_walking_pages_on_bigquery_returns_every_row_once_in_order(
    paged_client: TestClient, limit: int, order: str, kind: str | None, since: int | None
) -> None:
    params: dict[str, str | int] = {"limit": limit, "order": order}
    if kind:
        params["type"] = kind
    if since is not None:
        params["since"] = (T0 + timedelta(minutes=since)).isoformat()
    expected = sorted(
        (
            (datetime.fromisoformat(e["time"]).astimezone(UTC), e["id"])
            for e in PAGED
            if (kind is None or e["type"] == kind)
            and (
                since is None or datetime.fromisoformat(e["time"]) >= T0 + timedelta(minutes=since)
            )
        ),
        reverse=order == "desc",
    )
    walked: list[str] = []
    response = paged_client.get("/api/v1/events", params=params)
    while True:
        assert response.status_code == 200, response.text
        walked += [item["event"]["id"] for item in response.json()["items"]]
        link = response.headers.get("link")
        if not link:
            break
        response = paged_client.get(link[1 : link.index(">")])
    assert walked == [event_id for _, event_id in expected]
