"""One message in, one row out: every rejection class of real-looking bad input is a dead letter
with its reason, its raw payload and its Pub/Sub context; nothing raises, nothing is dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bqingest.contract import Reason
from bqingest.contract.schema import DEAD_LETTERS, EVENTS
from bqingest.pipeline.processing import (
    Destination,
    ReceivedMessage,
    internal_error,
    process_message,
    sink_rejection,
)
from tests.conftest import PUBLISHED

NOW = datetime(2026, 11, 29, 7, 0, 2, tzinfo=UTC)
LIMIT = 4096
EVENT = {
    "specversion": "1.0",
    "id": "order-42",
    "source": "//shop.example.com/orders",
    "type": "com.example.order.created",
    "time": "2026-11-29T06:59:58Z",
    "data": {"order_id": "42", "total": 12.5},
}
BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "reading-1",
    "ce-type": "com.example.sensor.reading",
    "ce-source": "//iot.example.com/devices/7",
    "content-type": "application/json",
}


def message(data: bytes, attributes: dict[str, str] | None = None) -> ReceivedMessage:
    return ReceivedMessage(data, attributes or {}, "4711", PUBLISHED)


def body(**changes: object) -> bytes:
    event: dict[str, object] = {**EVENT, **changes}
    return json.dumps({k: v for k, v in event.items() if v is not ...}).encode()


BAD_INPUT = [
    pytest.param(
        message(b'{"specversion":"1.0","source":"caf\xe9"}'), Reason.NOT_UTF8, id="latin-1"
    ),
    pytest.param(message(body()[:40]), Reason.NOT_JSON, id="truncated"),
    pytest.param(message(b"<event id='1'/>"), Reason.NOT_JSON, id="xml"),
    pytest.param(message(b""), Reason.NOT_JSON, id="empty-body"),
    pytest.param(message(json.dumps([EVENT]).encode()), Reason.NOT_OBJECT, id="array"),
    pytest.param(message(b'"just a string"'), Reason.NOT_OBJECT, id="string"),
    pytest.param(message(body(type=...)), Reason.MISSING_FIELD, id="missing-type"),
    pytest.param(message(body(source=...)), Reason.MISSING_FIELD, id="missing-source"),
    pytest.param(message(body(time=1764399598)), Reason.WRONG_TYPE, id="epoch-time"),
    pytest.param(message(body(source=42)), Reason.WRONG_TYPE, id="numeric-source"),
    pytest.param(message(body(id=None)), Reason.WRONG_TYPE, id="null-id"),
    pytest.param(message(body(time="29/11/2026 06:59")), Reason.INVALID_TIME, id="local-format"),
    pytest.param(message(body(time="2026-11-29T06:59:58")), Reason.INVALID_TIME, id="no-offset"),
    pytest.param(message(body(id="order 42/retry")), Reason.INVALID_ID, id="bad-id"),
    pytest.param(message(body(id="x" * 129)), Reason.INVALID_ID, id="long-id"),
    pytest.param(message(body(data="x" * LIMIT)), Reason.TOO_LARGE, id="over-size"),
    pytest.param(
        message(b'{"t": 21.5}', {k: v for k, v in BINARY.items() if k != "ce-specversion"}),
        Reason.MISSING_FIELD,
        id="binary-without-specversion",
    ),
    pytest.param(
        message(body(specversion="0.3")), Reason.UNSUPPORTED_SPECVERSION, id="cloudevents-0.3"
    ),
    pytest.param(
        message(b"\x00\x01", {**BINARY, "content-type": "application/octet-stream"}),
        Reason.UNSUPPORTED_CONTENT_TYPE,
        id="octet-stream",
    ),
    pytest.param(message(b"{not json", BINARY), Reason.NOT_JSON, id="binary-bad-json"),
    pytest.param(
        message(body(time="0001-01-01T00:00:00+01:00")), Reason.INVALID_TIME, id="time-before-utc"
    ),
    pytest.param(message(b'{"x": NaN}', BINARY), Reason.INVALID_VALUE, id="nan-data"),
    pytest.param(
        message(body().replace(b"}}", b', "big": 1e400}}')), Reason.INVALID_VALUE, id="overflow"
    ),
]


@pytest.mark.parametrize(("received", "reason"), BAD_INPUT)
def test_bad_input_becomes_a_dead_letter_with_its_reason(
    received: ReceivedMessage, reason: Reason
) -> None:
    row = process_message(received, max_bytes=LIMIT, now=NOW)
    assert row.destination is Destination.DEAD_LETTERS
    assert tuple(row.row) == DEAD_LETTERS.column_names
    assert row.row["reason"] == reason.value
    assert row.row["stage"] == "parse"
    assert row.row["raw_payload"] == received.data
    assert row.row["message_id"] == "4711"
    assert row.row["publish_time"] == PUBLISHED
    assert row.row["failed_at"] == NOW
    assert row.row["error_message"]
    if received.attributes:
        assert json.loads(row.row["attributes"]) == dict(received.attributes)
    assert row.message is received


def test_a_valid_structured_event_becomes_an_events_row() -> None:
    row = process_message(message(body(), {"origin": "test"}), max_bytes=LIMIT, now=NOW)
    assert row.destination is Destination.EVENTS
    assert tuple(row.row) == EVENTS.column_names
    assert (row.row["id"], row.row["message_id"], row.row["ingested_at"]) == (
        "order-42",
        "4711",
        NOW,
    )
    assert json.loads(row.row["data"]) == {"order_id": "42", "total": 12.5}


def test_a_binary_scheduler_tick_takes_its_message_id_and_publish_time() -> None:
    attributes = {
        "ce-specversion": "1.0",
        "ce-type": "com.bqingest.scheduler.tick",
        "ce-source": "//cloudscheduler.googleapis.com/projects/p/locations/l/jobs/j",
        "content-type": "application/json",
    }
    row = process_message(message(b'{"job":"j"}', attributes), max_bytes=LIMIT, now=NOW)
    assert row.destination is Destination.EVENTS
    assert (row.row["id"], row.row["time"]) == ("4711", PUBLISHED)
    assert json.loads(row.row["data"]) == {"job": "j"}


def test_a_message_without_pubsub_context_is_kept_as_internal_error() -> None:
    received = ReceivedMessage(body(), {}, None, PUBLISHED)
    row = process_message(received, max_bytes=LIMIT, now=NOW)
    assert (row.destination, row.row["reason"]) == (Destination.DEAD_LETTERS, "internal_error")
    assert row.row["raw_payload"] == received.data


def test_an_unexpected_exception_is_kept_as_internal_error() -> None:
    row = internal_error(message(b"{}"), KeyError("boom"), now=NOW)
    assert row.row["reason"] == "internal_error"
    assert "KeyError" in row.row["error_message"]


def test_a_row_bigquery_refused_becomes_a_sink_dead_letter_of_its_message() -> None:
    event = process_message(message(body()), max_bytes=LIMIT, now=NOW)
    rejected = sink_rejection(event, "row too large", now=NOW)
    assert rejected.destination is Destination.DEAD_LETTERS
    assert (rejected.row["stage"], rejected.row["reason"]) == ("sink", "sink_rejected")
    assert rejected.row["raw_payload"] == body()
    assert "row too large" in rejected.row["error_message"]
    # Rejected at the sink and at parse are different dead letters of the same message.
    parse_failure = process_message(message(body(id="bad id")), max_bytes=LIMIT, now=NOW)
    assert rejected.row["dead_letter_id"] != parse_failure.row["dead_letter_id"]


def test_a_row_survives_the_state_coder_of_the_sink_unchanged() -> None:
    """Rows wait for their batch in Beam state, which pickles them (RowToWrite.__reduce__)."""
    from apache_beam import coders

    from bqingest.pipeline.processing import RowToWrite

    accepted = ReceivedMessage(
        b'{"specversion":"1.0","id":"a","source":"//s","type":"t"}', {"k": "v"}, "7", NOW
    )
    rejected = ReceivedMessage(b"not json", {}, None, None)
    coder = coders.PickleCoder()
    for message in (accepted, rejected):
        row = process_message(message, max_bytes=4096, now=NOW)
        again = coder.decode(coder.encode(row))
        assert type(again) is RowToWrite and again == row
        assert again.destination is row.destination and again.message == message
