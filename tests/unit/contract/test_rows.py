"""Rows built for the warehouse match the table specs exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from bqingest.contract import (
    ContractError,
    Reason,
    Stage,
    dead_letter_row,
    event_row,
    parse_message,
)
from bqingest.contract.schema import DEAD_LETTERS, EVENTS
from tests.conftest import PUBLISHED, context

INGESTED = datetime(2026, 11, 29, 7, 0, 1, tzinfo=UTC)


def test_event_row_has_exactly_the_events_columns() -> None:
    body = b'{"specversion":"1.0","id":"e1","source":"s","type":"t","data":{"k":[1,2]},"ext":"v"}'
    ctx = context({"origin": "test"})
    row = event_row(parse_message(body, ctx), ctx, ingested_at=INGESTED)
    assert tuple(row) == EVENTS.column_names
    assert row["id"] == "e1"
    assert json.loads(row["data"]) == {"k": [1, 2]}
    assert json.loads(row["extensions"]) == {"ext": "v"}
    assert json.loads(row["attributes"]) == {"origin": "test"}
    assert row["time"] == PUBLISHED
    assert (row["publish_time"], row["ingested_at"]) == (PUBLISHED, INGESTED)
    assert row["message_id"] == "1234567890"


def test_event_row_normalises_times_to_utc() -> None:
    body = (
        b'{"specversion":"1.0","id":"e1","source":"s","type":"t",'
        b'"time":"2026-01-01T01:00:00+01:00"}'
    )
    row = event_row(parse_message(body, context()), context(), ingested_at=INGESTED)
    assert row["time"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert row["time"].utcoffset() == timedelta(0)
    assert row["time"].tzinfo == UTC
    assert row["data"] is None and row["extensions"] is None and row["attributes"] is None


def test_dead_letter_row_keeps_the_raw_payload_and_reason() -> None:
    tz = timezone(timedelta(hours=2))
    row = dead_letter_row(
        payload=b"\xff not json",
        attributes={"a": "1"},
        message_id="m1",
        publish_time=PUBLISHED,
        error=ContractError(Reason.NOT_UTF8, "body is not valid UTF-8", field=None),
        stage=Stage.PARSE,
        failed_at=datetime(2026, 11, 29, 9, tzinfo=tz),
    )
    assert tuple(row) == DEAD_LETTERS.column_names
    assert row["raw_payload"] == b"\xff not json"
    assert (row["reason"], row["stage"]) == ("not_utf8", "parse")
    assert row["failed_at"] == datetime(2026, 11, 29, 7, tzinfo=UTC)
    assert row["replayed_at"] is None


def test_dead_letter_id_is_stable_per_message_and_stage() -> None:
    def key(message_id: str | None, stage: Stage, payload: bytes = b"x") -> str:
        return str(
            dead_letter_row(
                payload=payload,
                attributes={},
                message_id=message_id,
                publish_time=None,
                error=ContractError(Reason.NOT_JSON, "no"),
                stage=stage,
                failed_at=INGESTED,
            )["dead_letter_id"]
        )

    assert key("m1", Stage.PARSE) == key("m1", Stage.PARSE, b"other payload")
    assert key("m1", Stage.PARSE) != key("m2", Stage.PARSE)
    assert key("m1", Stage.PARSE) != key("m1", Stage.SINK)
    assert key(None, Stage.PARSE, b"a") != key(None, Stage.PARSE, b"b")


def test_a_dead_letter_row_stays_bounded_whatever_the_message() -> None:
    import hashlib

    from bqingest.contract.rows import DEAD_LETTER_PAYLOAD_BYTES

    payload = bytes(range(256)) * (10 * 1024 * 1024 // 256)  # 10 MiB, what Pub/Sub accepts
    row = dead_letter_row(
        payload=payload,
        attributes={},
        message_id="m-huge",
        publish_time=PUBLISHED,
        error=ContractError(Reason.TOO_LARGE, "x" * 50_000),
        stage=Stage.PARSE,
        failed_at=PUBLISHED,
    )
    assert row["raw_payload"] == payload[:DEAD_LETTER_PAYLOAD_BYTES]
    assert row["payload_truncated"] is True
    assert row["payload_bytes"] == len(payload)
    assert row["payload_sha256"] == hashlib.sha256(payload).hexdigest()
    assert row["payload_uri"] is None  # the writer archives the whole body and sets it
    assert len(row["error_message"]) <= 2000
    small = dead_letter_row(
        payload=b"{}",
        attributes={},
        message_id="m",
        publish_time=PUBLISHED,
        error=ContractError(Reason.NOT_OBJECT, "no"),
        stage=Stage.PARSE,
        failed_at=PUBLISHED,
    )
    assert (small["raw_payload"], small["payload_truncated"], small["payload_bytes"]) == (
        b"{}",
        False,
        2,
    )
