"""The Google client libraries work against the emulators through our client factories."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from google.api_core import exceptions
from google.cloud import bigquery, pubsub_v1

from bqingest.config import LocalSettings
from bqingest.warehouse import query as warehouse


def pull(subscriber: pubsub_v1.SubscriberClient, path: str, *, want: int = 1, timeout: float = 20):
    """Pull until ``want`` messages arrived or the deadline passed."""
    received = []
    deadline = time.monotonic() + timeout
    while len(received) < want and time.monotonic() < deadline:
        response = subscriber.pull(subscription=path, max_messages=want - len(received), timeout=5)
        received.extend(response.received_messages)
    return received


def test_publish_and_pull(bootstrapped: LocalSettings, publisher, subscriber) -> None:
    future = publisher.publish(bootstrapped.topic_path, b'{"hello": 1}', origin="test")
    message_id = future.result(timeout=10)
    [received] = pull(subscriber, bootstrapped.subscription_path)
    assert received.message.message_id == message_id
    assert received.message.data == b'{"hello": 1}'
    assert dict(received.message.attributes) == {"origin": "test"}
    subscriber.acknowledge(subscription=bootstrapped.subscription_path, ack_ids=[received.ack_id])


@pytest.fixture
def seeded(bootstrapped: LocalSettings, bq: bigquery.Client) -> LocalSettings:
    rows = [
        {
            "id": "dup",
            "source": "s",
            "type": "t",
            "specversion": "1.0",
            "time": "2026-11-29T07:00:00Z",
            "data": json.dumps({"n": n}),
            "message_id": f"m{n}",
            "publish_time": f"2026-11-29T07:00:0{n}Z",
            "ingested_at": "2026-11-29T07:00:10Z",
        }
        for n in (2, 1, 3)
    ]
    assert bq.insert_rows_json(bootstrapped.events_table_id, rows) == []
    return bootstrapped


def test_insert_and_query_with_parameters(seeded: LocalSettings, bq: bigquery.Client) -> None:
    rows = warehouse.query_all(
        bq,
        f"SELECT id, message_id, time, JSON_VALUE(data, '$.n') AS n "
        f"FROM `{seeded.events_table_id}` WHERE id = @id ORDER BY message_id",
        parameters=[bigquery.ScalarQueryParameter("id", "STRING", "dup")],
        timeout=10,
    )
    assert [(r["message_id"], r["n"]) for r in rows] == [("m1", "1"), ("m2", "2"), ("m3", "3")]
    assert rows[0]["time"] == datetime(2026, 11, 29, 7, tzinfo=UTC)


def test_dedup_view_shows_each_id_once_earliest_publish_wins(seeded: LocalSettings, bq) -> None:
    rows = warehouse.query_all(bq, f"SELECT id, message_id FROM `{seeded.dedup_view_id}`")
    assert [(r["id"], r["message_id"]) for r in rows] == [("dup", "m1")]


def test_a_failed_query_raises_even_though_the_emulator_answers_200(
    seeded: LocalSettings, bq
) -> None:
    # The raw client returns an empty result here; our query() must not.
    sql = f"SELECT no_such_column FROM `{seeded.events_table_id}`"
    assert list(bq.query_and_wait(sql)) == []
    with pytest.raises(exceptions.BadRequest, match="no_such_column"):
        warehouse.query(bq, sql)


def test_a_missing_table_raises_not_found(seeded: LocalSettings, bq) -> None:
    with pytest.raises(exceptions.NotFound, match="not found"):
        warehouse.query(bq, f"SELECT 1 AS x FROM `{seeded.project}.{seeded.dataset}.nope`")


def test_an_empty_result_is_not_an_error(seeded: LocalSettings, bq) -> None:
    rows = warehouse.query(
        bq,
        f"SELECT id FROM `{seeded.dedup_view_id}` WHERE id = @id",
        parameters=[bigquery.ScalarQueryParameter("id", "STRING", "absent")],
    )
    assert list(rows) == []
