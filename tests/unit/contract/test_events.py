"""The event contract on valid events (both modes) and on every rejection class."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bqingest.contract import (
    ContractError,
    Reason,
    is_valid_id,
    parse_event_json,
    parse_message,
)
from tests.conftest import PUBLISHED, context

ORDER = {
    "specversion": "1.0",
    "id": "order-42",
    "source": "//shop.example.com/orders",
    "type": "com.example.order.created",
    "subject": "orders/42",
    "time": "2026-11-29T06:59:58.123456+01:00",
    "datacontenttype": "application/json",
    "data": {"order_id": "42", "amount": 12.5, "items": [{"sku": "a", "qty": 2}]},
}

BINARY_ATTRIBUTES = {
    "ce-specversion": "1.0",
    "ce-id": "tick-1",
    "ce-source": "//cloudscheduler.googleapis.com/jobs/tick",
    "ce-type": "com.example.scheduler.tick",
    "content-type": "application/json",
}


def structured(**changes: object) -> bytes:
    event = {**ORDER, **changes}
    return json.dumps({k: v for k, v in event.items() if v is not ...}).encode()


def reject(body: bytes, attributes: dict[str, str] | None = None, **kwargs: int) -> ContractError:
    with pytest.raises(ContractError) as caught:
        parse_message(body, context(attributes), **kwargs)
    return caught.value


class TestStructuredMode:
    def test_valid_event_keeps_every_attribute(self) -> None:
        event = parse_message(structured(), context())
        assert event.id == "order-42"
        assert event.source == "//shop.example.com/orders"
        assert event.type == "com.example.order.created"
        assert event.subject == "orders/42"
        assert event.time == datetime(2026, 11, 29, 5, 59, 58, 123456, tzinfo=UTC)
        assert event.time.utcoffset() == timedelta(hours=1)
        assert event.data == ORDER["data"]
        assert event.extensions == {}

    def test_missing_id_takes_the_message_id(self) -> None:
        event = parse_message(structured(id=...), context(message_id="987654321"))
        assert event.id == "987654321"

    def test_missing_time_takes_the_publish_time(self) -> None:
        event = parse_message(structured(time=...), context())
        assert event.time == PUBLISHED

    def test_extensions_are_kept(self) -> None:
        event = parse_message(structured(traceparent="00-abc-01", partition=3), context())
        assert event.extensions == {"traceparent": "00-abc-01", "partition": 3}

    @pytest.mark.parametrize("data", [None, [1, 2], "text", 3.5, True, {"nested": {"a": [None]}}])
    def test_any_json_data(self, data: object) -> None:
        assert parse_message(structured(data=data), context()).data == data


class TestBinaryMode:
    def test_valid_binary_event(self) -> None:
        body = json.dumps({"job": "tick"}).encode()
        event = parse_message(body, context(BINARY_ATTRIBUTES))
        assert (event.id, event.type) == ("tick-1", "com.example.scheduler.tick")
        assert event.datacontenttype == "application/json"
        assert event.data == {"job": "tick"}
        assert event.time == PUBLISHED

    def test_cloud_scheduler_message_without_id_takes_the_message_id(self) -> None:
        attributes = {k: v for k, v in BINARY_ATTRIBUTES.items() if k != "ce-id"}
        event = parse_message(b'{"job":"tick"}', context(attributes, message_id="555"))
        assert event.id == "555"

    def test_time_and_extensions_from_attributes(self) -> None:
        attributes = {**BINARY_ATTRIBUTES, "ce-time": "2026-01-02T03:04:05Z", "ce-region": "eu"}
        event = parse_message(b"{}", context(attributes))
        assert event.time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert event.extensions == {"region": "eu"}

    def test_text_data(self) -> None:
        attributes = {**BINARY_ATTRIBUTES, "content-type": "text/plain; charset=utf-8"}
        assert parse_message("héllo".encode(), context(attributes)).data == "héllo"

    def test_empty_body_is_no_data(self) -> None:
        assert parse_message(b"", context(BINARY_ATTRIBUTES)).data is None


class TestRejections:
    def test_too_large(self) -> None:
        error = reject(structured(data="x" * 2000), max_bytes=1024)
        assert error.reason is Reason.TOO_LARGE
        assert "limit of 1024 bytes" in error.message

    def test_attributes_count_towards_the_size(self) -> None:
        error = reject(b"{}", {"big": "x" * 2000}, max_bytes=1024)
        assert error.reason is Reason.TOO_LARGE

    def test_not_utf8(self) -> None:
        assert reject(b'{"id": "\xff\xfe"}').reason is Reason.NOT_UTF8

    def test_not_utf8_in_binary_mode(self) -> None:
        assert reject(b"\xc3\x28", BINARY_ATTRIBUTES).reason is Reason.NOT_UTF8

    @pytest.mark.parametrize("body", [b"{bad json", b"", b"   ", b'{"a": 1,}'])
    def test_not_json(self, body: bytes) -> None:
        error = reject(body)
        assert error.reason is Reason.NOT_JSON
        assert error.field is None

    def test_not_json_in_binary_mode(self) -> None:
        assert reject(b"<xml/>", BINARY_ATTRIBUTES).reason is Reason.NOT_JSON

    @pytest.mark.parametrize("body", [b"[1, 2]", b'"a string"', b"42", b"null"])
    def test_json_but_not_an_object(self, body: bytes) -> None:
        assert reject(body).reason is Reason.NOT_OBJECT

    @pytest.mark.parametrize("field", ["specversion", "source", "type"])
    def test_missing_required_attribute(self, field: str) -> None:
        error = reject(structured(**{field: ...}))
        assert (error.reason, error.field) == (Reason.MISSING_FIELD, field)
        assert field in error.message

    def test_binary_mode_without_specversion(self) -> None:
        attributes = {k: v for k, v in BINARY_ATTRIBUTES.items() if k != "ce-specversion"}
        error = reject(b"{}", attributes)
        assert (error.reason, error.field) == (Reason.MISSING_FIELD, "specversion")

    @pytest.mark.parametrize(
        ("field", "value"),
        [("type", 7), ("source", ["a"]), ("subject", {"a": 1}), ("id", 12), ("time", 1700000000)],
    )
    def test_wrong_type(self, field: str, value: object) -> None:
        error = reject(structured(**{field: value}))
        assert (error.reason, error.field) == (Reason.WRONG_TYPE, field)

    def test_null_id_is_wrong_type(self) -> None:
        error = reject(structured(id=None))
        assert (error.reason, error.field) == (Reason.WRONG_TYPE, "id")

    @pytest.mark.parametrize(
        "value", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-29T07:00:00", "2026-11-29", ""]
    )
    def test_invalid_time(self, value: str) -> None:
        error = reject(structured(time=value))
        assert (error.reason, error.field) == (Reason.INVALID_TIME, "time")

    @pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
    def test_time_outside_utc_is_invalid_time_never_an_internal_error(self, value: str) -> None:
        error = reject(structured(time=value))
        assert (error.reason, error.field) == (Reason.INVALID_TIME, "time")
        binary = reject(b"{}", {**BINARY_ATTRIBUTES, "ce-time": value})
        assert binary.reason is Reason.INVALID_TIME
        with pytest.raises(ContractError) as caught:
            parse_event_json(structured(time=value))
        assert caught.value.reason is Reason.INVALID_TIME

    @pytest.mark.parametrize(
        ("data", "where"),
        [
            (b"NaN", "data"),
            (b'{"x": Infinity}', "data.x"),
            (b'{"readings": [1.5, {"t": -Infinity}]}', "data.readings[1].t"),
            (b'{"big": 1e400}', "data.big"),
            (b"[-1e309]", "data[0]"),
        ],
    )
    def test_non_finite_numbers_are_refused_in_both_modes(self, data: bytes, where: str) -> None:
        body = structured(data=0).replace(b'"data": 0', b'"data": ' + data)
        error = reject(body)
        assert (error.reason, error.field) == (Reason.INVALID_VALUE, where)
        assert "finite" in error.message
        assert reject(data, BINARY_ATTRIBUTES).reason is Reason.INVALID_VALUE
        with pytest.raises(ContractError) as caught:
            parse_event_json(body)
        assert caught.value.reason is Reason.INVALID_VALUE

    @pytest.mark.parametrize(
        ("data", "where"),
        [
            (b"1" + b"0" * 4299, "data"),  # the review's 4,300-digit integer
            (b'{"n": 18446744073709551616}', "data.n"),  # 2^64
            (b'{"a": [1, {"n": -9223372036854775809}]}', "data.a[1].n"),  # -2^63 - 1
        ],
    )
    def test_integers_bigquery_cannot_store_are_refused(self, data: bytes, where: str) -> None:
        body = structured(data=0).replace(b'"data": 0', b'"data": ' + data)
        error = reject(body)
        assert (error.reason, error.field) == (Reason.INVALID_VALUE, where)
        assert "-2^63..2^64-1" in error.message
        assert reject(data, BINARY_ATTRIBUTES).reason is Reason.INVALID_VALUE
        with pytest.raises(ContractError):
            parse_event_json(body)

    def test_a_lone_surrogate_bigquery_could_not_store_is_refused(self) -> None:
        body = structured(data=0).replace(b'"data": 0', b'"data": {"k": "\\ud800"}')
        assert reject(body).reason is Reason.NOT_JSON

    def test_integers_at_the_edges_of_int64_and_uint64_are_kept(self) -> None:
        data = {"min": -(2**63), "max": 2**64 - 1}
        assert parse_message(structured(data=data), context()).data == data

    @pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 10**30])
    def test_extension_integers_are_32_bit(self, value: int) -> None:
        error = reject(structured(level=value))
        assert (error.reason, error.field) == (Reason.INVALID_VALUE, "level")
        assert parse_message(structured(level=2**31 - 1), context()).extensions == {
            "level": 2**31 - 1
        }

    def test_checking_data_takes_memory_for_its_depth_not_its_size(self) -> None:
        """The review's body: 1 MiB of ``[{}, {}, ...]`` took 64 MiB to parse; 40 of those went
        to a path string per pending value in the NaN check."""
        items = (1024 * 1024 - 100) // 3
        body = structured(data=0).replace(
            b'"data": 0', b'"data": [' + b",".join([b"{}"] * items) + b"]"
        )
        tracemalloc.start()
        try:
            parse_event_json(body)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 32 * len(body)  # the decoded tree itself is about 24 bytes per byte

    def test_large_but_finite_numbers_are_kept(self) -> None:
        event = parse_message(structured(data={"x": 1e308, "y": -2.5e-300}), context())
        assert event.data == {"x": 1e308, "y": -2.5e-300}

    def test_invalid_time_in_binary_mode(self) -> None:
        error = reject(b"{}", {**BINARY_ATTRIBUTES, "ce-time": "not a time"})
        assert error.reason is Reason.INVALID_TIME

    @pytest.mark.parametrize(
        "value", ["", "has space", "a/b", "x" * 129, "drop'table", "é", "line\nbreak", "id\n"]
    )
    def test_invalid_id(self, value: str) -> None:
        error = reject(structured(id=value))
        assert (error.reason, error.field) == (Reason.INVALID_ID, "id")

    def test_invalid_id_in_binary_mode(self) -> None:
        error = reject(b"{}", {**BINARY_ATTRIBUTES, "ce-id": "no spaces please"})
        assert error.reason is Reason.INVALID_ID

    @pytest.mark.parametrize("value", ["0.3", "2.0", "1"])
    def test_unsupported_specversion(self, value: str) -> None:
        assert reject(structured(specversion=value)).reason is Reason.UNSUPPORTED_SPECVERSION

    def test_empty_source_is_invalid_value(self) -> None:
        error = reject(structured(source=""))
        assert (error.reason, error.field) == (Reason.INVALID_VALUE, "source")

    def test_data_base64_is_unsupported(self) -> None:
        error = reject(structured(data=..., data_base64="aGVsbG8="))
        assert error.reason is Reason.UNSUPPORTED_CONTENT_TYPE

    def test_binary_octet_stream_is_unsupported(self) -> None:
        attributes = {**BINARY_ATTRIBUTES, "content-type": "application/octet-stream"}
        assert reject(b"\x00\x01", attributes).reason is Reason.UNSUPPORTED_CONTENT_TYPE

    @pytest.mark.parametrize("name", ["Upper", "with-dash", "waytoolongextensionname1"])
    def test_bad_extension_name(self, name: str) -> None:
        error = reject(structured(**{name: "v"}))
        assert error.reason is Reason.INVALID_VALUE

    def test_extension_value_must_be_scalar(self) -> None:
        assert reject(structured(region={"a": 1})).reason is Reason.WRONG_TYPE

    def test_every_reason_is_a_stable_string(self) -> None:
        assert {reason.value for reason in Reason} >= {
            "not_utf8",
            "not_json",
            "missing_field",
            "wrong_type",
            "invalid_time",
            "invalid_id",
            "too_large",
        }


class TestApiBodies:
    def test_id_and_time_may_be_absent(self) -> None:
        event = parse_event_json(structured(id=..., time=...))
        assert event.id is None
        assert event.time is None

    def test_same_rejections_as_the_pipeline(self) -> None:
        with pytest.raises(ContractError) as caught:
            parse_event_json(structured(time="noon"))
        assert caught.value.reason is Reason.INVALID_TIME

    def test_accepts_text(self) -> None:
        tz = timezone(timedelta(hours=-5))
        event = parse_event_json(structured(time="2026-11-29T02:00:00-05:00").decode())
        assert event.time == datetime(2026, 11, 29, 2, tzinfo=tz)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("a", True), ("A-Z_09.~:", True), ("x" * 128, True), ("x" * 129, False), ("", False)],
)
def test_id_pattern(value: str, valid: bool) -> None:
    assert is_valid_id(value) is valid
