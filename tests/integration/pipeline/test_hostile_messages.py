"""What an outside producer can send, end to end: every message Pub/Sub accepts ends in events or
dead_letters, with the right reason, and the stream goes on.

One pipeline on the local runner reads, in this order: a 9.9 MB body that is not an event
(Pub/Sub takes up to 10 MB; gRPC's default would refuse to receive it), a 9.9 MB valid event
too large for one append, an event whose data holds NaN, an event whose time has no UTC instant,
two events of two sources with one id, and a plain event last (the stream did not wedge).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from google.cloud import bigquery

from bqingest import clients
from bqingest.api.main import event_store
from bqingest.config import LocalSettings
from bqingest.contract.rows import DEAD_LETTER_PAYLOAD_BYTES
from bqingest.pipeline.archive import read_archived
from bqingest.warehouse import query as warehouse
from bqingest.warehouse.totals import totals
from tests.integration.ingestion import PipelineProcess, count_rows, wait_until

NEARLY_TEN_MB = 9_900_000


def event(event_id: str, source: str = "//hostile.example", **fields: object) -> bytes:
    body = {"specversion": "1.0", "id": event_id, "source": source, "type": "t", **fields}
    return json.dumps(body).encode()


@pytest.fixture
def hostile_settings(bootstrapped: LocalSettings, tmp_path: Path) -> LocalSettings:
    # Messages up to 10 MiB are events (so the 9.9 MB valid one reaches the sink).
    return bootstrapped.model_copy(
        update={"data_dir": tmp_path, "max_message_bytes": 10 * 1024 * 1024}
    )


def test_every_message_pubsub_accepts_ends_in_a_table(
    hostile_settings: LocalSettings, bq: bigquery.Client, tmp_path: Path
) -> None:
    settings = hostile_settings
    not_json = b"{" + b"x" * (NEARLY_TEN_MB - 1)
    huge_event = event("huge-1", data="y" * NEARLY_TEN_MB)
    messages = [
        not_json,
        huge_event,
        event("nan-1").replace(b'"type": "t"', b'"type": "t", "data": {"v": NaN}'),
        event("time-1", time="0001-01-01T00:00:00+01:00"),
        event("shared-1", source="//producer-a"),
        event("shared-1", source="//producer-b"),
        event("last-1"),
    ]
    publisher = clients.publisher_client(settings.endpoints)
    pipeline = PipelineProcess(settings, tmp_path / "pipeline.log")
    pipeline.start()
    try:
        boot = clients.pubsub_emulator_boot(settings.endpoints, publisher=publisher)
        ids = [
            clients.recorded_message_id(
                publisher.publish(settings.topic_path, m).result(timeout=60), boot
            )
            for m in messages
        ]

        def arrived() -> bool:
            return count_rows(bq, settings.events_table_id) + count_rows(
                bq, settings.dead_letter_table_id
            ) >= len(messages)

        wait_until(arrived, what="all seven messages in events or dead_letters")
        pipeline.assert_running()
    finally:
        pipeline.stop()

    letters = {
        row["message_id"]: row
        for row in warehouse.query_all(bq, f"SELECT * FROM `{settings.dead_letter_table_id}`")
    }
    # The 9.9 MB non-event: a bounded row, the whole body archived, its hash recorded.
    big = letters[ids[0]]
    assert big["reason"] == "not_json"
    assert big["payload_truncated"] is True
    assert big["payload_bytes"] == len(not_json)
    assert len(big["raw_payload"]) == DEAD_LETTER_PAYLOAD_BYTES
    assert big["payload_sha256"] == hashlib.sha256(not_json).hexdigest()
    assert read_archived(big["payload_uri"]) == not_json
    # The 9.9 MB valid event: too large for one append, dead-lettered by the sink, archived.
    too_big = letters[ids[1]]
    assert (too_big["reason"], too_big["stage"]) == ("sink_rejected", "sink")
    assert read_archived(too_big["payload_uri"]) == huge_event
    # NaN and a time outside UTC: the contract's reasons, not internal_error.
    assert letters[ids[2]]["reason"] == "invalid_value"
    assert letters[ids[3]]["reason"] == "invalid_time"

    # Two producers, one id: two events, and the API's reader tells them apart.
    store = event_store(settings)
    try:
        both = store.get_events("shared-1", source=None, limit=5)
        assert [e.source for e in both] == ["//producer-a", "//producer-b"]
        [chosen] = store.get_events("shared-1", source="//producer-b", limit=5)
        assert chosen.message_id == ids[5]
        [last] = store.get_events("last-1", source=None, limit=5)
        assert last.message_id == ids[6]
    finally:
        store.close()
    assert len(letters) == 4
    held = totals(
        bq, events_table=settings.events_table_id, dead_letter_table=settings.dead_letter_table_id
    )
    assert (held.events_rows, held.event_ids) == (3, 3)  # shared-1 twice: two events
