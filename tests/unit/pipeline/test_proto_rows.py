"""Proto rows: the descriptor follows the contract's schema; encoding is exact."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import descriptor_pb2

from bqingest.contract.schema import DEAD_LETTERS, EVENTS
from bqingest.pipeline.proto_rows import schema_for, timestamp_micros

F = descriptor_pb2.FieldDescriptorProto
EXPECTED_TYPE = {
    "STRING": F.TYPE_STRING,
    "JSON": F.TYPE_STRING,
    "TIMESTAMP": F.TYPE_INT64,
    "BYTES": F.TYPE_BYTES,
    "INTEGER": F.TYPE_INT64,
    "BOOLEAN": F.TYPE_BOOL,
}


@pytest.mark.parametrize("spec", [EVENTS, DEAD_LETTERS], ids=lambda s: s.role)
def test_descriptor_has_one_optional_field_per_column(spec) -> None:
    descriptor = schema_for(spec).descriptor
    assert [f.name for f in descriptor.field] == list(spec.column_names)
    for field, column in zip(descriptor.field, spec.columns, strict=True):
        assert field.type == EXPECTED_TYPE[column.type]
        assert field.label == F.LABEL_OPTIONAL


def test_timestamps_are_exact_microseconds_in_utc() -> None:
    moment = datetime(2026, 11, 29, 7, 0, 0, 123456, tzinfo=UTC)
    assert timestamp_micros(moment) == calendar.timegm(moment.utctimetuple()) * 10**6 + 123456
    plus_one = moment.astimezone(timezone(timedelta(hours=1)))
    assert timestamp_micros(plus_one) == timestamp_micros(moment)
    assert timestamp_micros(datetime(1, 1, 1, tzinfo=UTC)) == -62_135_596_800_000_000
    with pytest.raises(ValueError, match="naive"):
        timestamp_micros(datetime(2026, 1, 1))


def test_encode_round_trips_and_leaves_none_unset() -> None:
    schema = schema_for(DEAD_LETTERS)
    row = dict.fromkeys(DEAD_LETTERS.column_names)
    row.update(
        dead_letter_id="k",
        raw_payload=b"\xff\x00",
        reason="not_utf8",
        error_message="m",
        stage="parse",
        failed_at=datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
    )
    decoded = schema.decode(schema.encode(row))
    assert decoded == {
        "dead_letter_id": "k",
        "raw_payload": b"\xff\x00",
        "reason": "not_utf8",
        "error_message": "m",
        "stage": "parse",
        "failed_at": 1_000_000,
    }


def test_unknown_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="not in events"):
        schema_for(EVENTS).encode({"id": "x", "surprise": 1})


def test_event_rows_round_trip_with_every_column_set() -> None:
    schema = schema_for(EVENTS)
    plus_two = timezone(timedelta(hours=2))
    row = {
        "id": "e-1",
        "source": "//s",
        "type": "t",
        "specversion": "1.0",
        "subject": "é",
        "time": datetime(2026, 11, 29, 9, 0, 0, 5, tzinfo=plus_two),
        "datacontenttype": "application/json",
        "dataschema": "https://example.com/s.json",
        "data": '{"a":[1,2.5,null]}',
        "extensions": '{"x":"1"}',
        "attributes": '{"ce-id":"e-1"}',
        "message_id": "42",
        "publish_time": datetime(1970, 1, 1, tzinfo=UTC),
        "ingested_at": datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    }
    decoded = schema.decode(schema.encode(row))
    micros = {"time": timestamp_micros(row["time"]), "publish_time": 0, "ingested_at": -1}
    assert decoded == {**row, **micros}
    assert decoded["time"] == timestamp_micros(datetime(2026, 11, 29, 7, 0, 0, 5, tzinfo=UTC))


def test_wrong_types_are_refused_as_type_or_value_errors() -> None:
    schema = schema_for(EVENTS)
    with pytest.raises(TypeError):
        schema.encode({"id": 5})
    with pytest.raises(ValueError, match="naive"):
        schema.encode({"time": datetime(2026, 1, 1)})
