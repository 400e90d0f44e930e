"""The warehouse writer against a fake appender: retries, row errors, splitting, and nothing
dropped. No Beam: the writer is plain Python (the Beam step is tested in test_sink.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from google.api_core import exceptions
from google.protobuf import descriptor_pb2

from bqingest.contract.schema import DEAD_LETTERS, EVENTS
from bqingest.pipeline.errors import SinkError, SinkRequestRefused, SinkUnavailable
from bqingest.pipeline.processing import Destination, ReceivedMessage, RowToWrite, process_message
from bqingest.pipeline.proto_rows import schema_for
from bqingest.pipeline.writer import (
    AppendResult,
    StorageWriteAppender,
    WarehouseWriter,
    default_stream,
)
from tests.conftest import PUBLISHED

NOW = datetime(2026, 11, 29, 7, 0, 2, tzinfo=UTC)
TABLES = {Destination.EVENTS: "p-roject.d.events", Destination.DEAD_LETTERS: "p-roject.d.dl"}


def event(n: int) -> RowToWrite:
    data = {"specversion": "1.0", "id": f"e{n}", "source": "//s", "type": "t", "data": {"n": n}}
    message = ReceivedMessage(json.dumps(data).encode(), {}, f"m{n}", PUBLISHED)
    return process_message(message, max_bytes=4096, now=NOW)


def rejected(n: int) -> RowToWrite:
    return process_message(
        ReceivedMessage(b"not json", {}, f"bad{n}", PUBLISHED), max_bytes=4096, now=NOW
    )


class FakeAppender:
    """Plays a script of outcomes (an exception, an AppendResult, or a callable of the rows)."""

    def __init__(self, *script: object) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, list[dict]]] = []
        self.written: dict[str, list[dict]] = {}

    def append(
        self, table_id: str, descriptor: descriptor_pb2.DescriptorProto, rows: Sequence[bytes]
    ) -> AppendResult:
        spec = EVENTS if table_id == TABLES[Destination.EVENTS] else DEAD_LETTERS
        assert descriptor == schema_for(spec).descriptor
        decoded = [schema_for(spec).decode(row) for row in rows]
        self.calls.append((table_id, decoded))
        outcome = self.script.pop(0) if self.script else AppendResult()
        if callable(outcome):
            outcome = outcome(decoded)
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, AppendResult)
        if not outcome.row_errors:
            self.written.setdefault(table_id, []).extend(decoded)
        return outcome

    def close(self) -> None:
        pass


class RetryClock:
    """The writer's ``sleep`` and ``monotonic``: sleeping only records the delay and moves the
    clock on, so backoff and deadlines are checked without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def retry_clock() -> RetryClock:
    return RetryClock()


def writer(
    appender: FakeAppender, retry_clock: RetryClock | None = None, **kwargs: object
) -> WarehouseWriter:
    """A writer whose retries sleep on ``retry_clock`` (a fresh one unless the test reads it)."""
    clock = retry_clock or RetryClock()
    return WarehouseWriter(
        appender,  # type: ignore[arg-type]
        tables=TABLES,
        clock=lambda: NOW,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        **kwargs,  # type: ignore[arg-type]
    )


def ids(rows: list[dict]) -> list[str]:
    return [row["id"] for row in rows]


def test_transient_errors_are_retried_with_capped_exponential_backoff(
    retry_clock: RetryClock,
) -> None:
    appender = FakeAppender(
        *[exceptions.ServiceUnavailable("down")] * 6, exceptions.DeadlineExceeded("slow")
    )
    outcome = writer(appender, retry_clock, initial_backoff=0.5, max_backoff=4.0).write(
        [event(1), event(2)]
    )
    assert ids(appender.written[TABLES[Destination.EVENTS]]) == ["e1", "e2"]
    assert outcome.retries == 7
    # Full jitter under a ceiling that doubles from 0.5 s and stops at 4 s.
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert len(retry_clock.sleeps) == 7
    assert all(0 <= slept <= cap for slept, cap in zip(retry_clock.sleeps, ceilings, strict=True))
    assert [row.row["id"] for row in outcome.events_written] == ["e1", "e2"]


def test_retries_stop_at_the_deadline_with_a_clear_error(retry_clock: RetryClock) -> None:
    appender = FakeAppender(*[exceptions.ServiceUnavailable("down")] * 10_000)
    with pytest.raises(SinkUnavailable, match="still fails after 10s of retries: 503 down"):
        writer(appender, retry_clock, retry_timeout=10).write([event(1)])
    assert retry_clock.now <= 10  # never slept past the deadline
    assert len(appender.calls) >= 3  # and did retry until the next sleep would have crossed it


def test_a_request_level_refusal_is_not_a_bad_row_and_loses_nothing(
    retry_clock: RetryClock,
) -> None:
    # What BigQuery answers when the table lacks a column the contract writes: the whole request
    # is refused, no row named. Splitting it would dead-letter every row as sink_rejected.
    refusal = exceptions.InvalidArgument(
        "Input schema has more fields than BigQuery schema, extra fields: 'dataschema'"
    )
    appender = FakeAppender(*[refusal] * 10)
    with pytest.raises(SinkRequestRefused, match="extra fields: 'dataschema'") as caught:
        writer(appender, retry_clock).write([event(n) for n in range(6)] + [rejected(1)])
    assert "nothing was written or dead-lettered" in str(caught.value)
    assert len(appender.calls) == 1  # not split, not retried
    assert appender.written == {}
    assert retry_clock.sleeps == []


def test_a_row_larger_than_one_append_is_dead_lettered_before_any_append() -> None:
    # A valid 1.5 MB event under a 1.2 MB request bound; its dead letter keeps a 1 MiB prefix.
    body = {
        "specversion": "1.0",
        "id": "big",
        "source": "//s",
        "type": "t",
        "data": "x" * 1_500_000,
    }
    message = ReceivedMessage(json.dumps(body).encode(), {}, "m-big", PUBLISHED)
    big = process_message(message, max_bytes=2_000_000, now=NOW)
    appender = FakeAppender()
    outcome = writer(appender, max_request_bytes=1_200_000).write([big, event(1)])
    assert ids(appender.written[TABLES[Destination.EVENTS]]) == ["e1"]
    [letter] = appender.written[TABLES[Destination.DEAD_LETTERS]]
    assert letter["reason"] == "sink_rejected"
    assert "one append may carry" in letter["error_message"]
    assert letter["payload_truncated"] is True
    assert letter["payload_bytes"] == len(message.data)
    assert outcome.sink_rejected == 1


def test_rows_bigquery_names_go_to_dead_letters_and_the_rest_is_written() -> None:
    appender = FakeAppender(AppendResult({1: "JSON too deep"}))
    outcome = writer(appender).write([event(0), event(1), event(2), rejected(9)])
    assert ids(appender.written[TABLES[Destination.EVENTS]]) == ["e0", "e2"]
    letters = appender.written[TABLES[Destination.DEAD_LETTERS]]
    assert [(dl["reason"], dl["stage"]) for dl in letters] == [
        ("not_json", "parse"),
        ("sink_rejected", "sink"),
    ]
    sink_letter = letters[1]
    assert json.loads(sink_letter["raw_payload"])["id"] == "e1"
    assert sink_letter["message_id"] == "m1"
    assert "JSON too deep" in sink_letter["error_message"]
    assert outcome.sink_rejected == 1
    assert len(outcome.dead_letters_written) == 2


def test_a_request_refused_without_row_indices_is_split_until_the_bad_row_is_alone() -> None:
    # bqemulator refuses a whole request with UNKNOWN when one JSON value does not parse.
    def refuse_e5(rows: list[dict]) -> object:
        if any(row.get("id") == "e5" for row in rows):
            return exceptions.Unknown("Conversion Error: Malformed JSON")
        return AppendResult()

    appender = FakeAppender(*[refuse_e5] * 20)
    outcome = writer(appender).write([event(n) for n in range(8)])
    assert sorted(ids(appender.written[TABLES[Destination.EVENTS]])) == [
        f"e{n}" for n in range(8) if n != 5
    ]
    [letter] = appender.written[TABLES[Destination.DEAD_LETTERS]]
    assert json.loads(letter["raw_payload"])["id"] == "e5"
    assert outcome.sink_rejected == 1


def test_a_refused_dead_letter_has_nowhere_to_go_and_raises() -> None:
    appender = FakeAppender(AppendResult({0: "bad"}))
    with pytest.raises(SinkError, match="dead-letter row"):
        writer(appender).write([rejected(1)])


def test_requests_are_split_by_rows_and_bytes() -> None:
    appender = FakeAppender()
    writer(appender, max_request_rows=3).write([event(n) for n in range(7)])
    assert [len(rows) for _, rows in appender.calls] == [3, 3, 1]
    appender = FakeAppender()
    size = len(schema_for(EVENTS).encode(event(0).row))
    writer(appender, max_request_bytes=2 * size + 1).write([event(n) for n in range(5)])
    assert [len(rows) for _, rows in appender.calls] == [2, 2, 1]


class FakeWriteClient:
    """The seam under StorageWriteAppender: what append_rows yields."""

    def __init__(self, responses: list[object]) -> None:
        self.responses = responses
        self.requests: list[object] = []
        self.kwargs: dict[str, object] = {}

    def append_rows(self, requests, **kwargs):
        self.requests.extend(requests)
        self.kwargs = kwargs
        return iter(self.responses)


def test_the_appender_turns_an_empty_response_into_unavailable() -> None:
    # After a server restart the client's own retry replays a spent request iterator and gets
    # no response at all; that must never read as success.
    client = FakeWriteClient([])
    appender = StorageWriteAppender(client, timeout=5)  # type: ignore[arg-type]
    with pytest.raises(exceptions.ServiceUnavailable):
        appender.append("p-roject.d.t", schema_for(EVENTS).descriptor, [b""])
    assert client.kwargs == {"retry": None, "timeout": 5}
    [request] = client.requests
    assert request.write_stream == "projects/p-roject/datasets/d/tables/t/streams/_default"


def test_the_appender_reads_row_errors_and_error_statuses() -> None:
    from google.cloud.bigquery_storage_v1 import types

    with_row_errors = types.AppendRowsResponse(
        row_errors=[types.RowError(index=2, message="bad row")]
    )
    appender = StorageWriteAppender(FakeWriteClient([with_row_errors]), timeout=5)  # type: ignore[arg-type]
    assert appender.append(
        "a-bcdef.d.t", schema_for(EVENTS).descriptor, [b"", b"", b""]
    ).row_errors == {2: "bad row"}
    failed = types.AppendRowsResponse(error={"code": 3, "message": "invalid"})
    appender = StorageWriteAppender(FakeWriteClient([failed]), timeout=5)  # type: ignore[arg-type]
    with pytest.raises(exceptions.InvalidArgument, match="invalid"):
        appender.append("a-bcdef.d.t", schema_for(EVENTS).descriptor, [b""])


def test_default_stream_name() -> None:
    assert default_stream("p-1.d_s.t_1") == "projects/p-1/datasets/d_s/tables/t_1/streams/_default"


def test_a_truncated_dead_letter_has_its_whole_body_archived(tmp_path) -> None:
    from bqingest.contract.rows import DEAD_LETTER_PAYLOAD_BYTES
    from bqingest.pipeline.archive import PayloadArchive, read_archived

    body = b"{" + b"x" * (DEAD_LETTER_PAYLOAD_BYTES + 10)  # not JSON, and over the prefix
    letter = process_message(
        ReceivedMessage(body, {}, "m-long", PUBLISHED), max_bytes=4 * 1024 * 1024, now=NOW
    )
    appender = FakeAppender()
    archive = PayloadArchive(str(tmp_path / "payloads"))
    writer(appender, archive=archive).write([letter])
    [row] = appender.written[TABLES[Destination.DEAD_LETTERS]]
    assert row["payload_truncated"] is True
    assert row["payload_uri"] == archive.uri_of(row["dead_letter_id"])
    assert read_archived(row["payload_uri"]) == body
    assert len(row["raw_payload"]) == DEAD_LETTER_PAYLOAD_BYTES
    # Without an archive the row still says where things stand: a prefix, no URI.
    bare = FakeAppender()
    writer(bare).write([letter])
    [kept] = bare.written[TABLES[Destination.DEAD_LETTERS]]
    assert kept["payload_truncated"] is True and "payload_uri" not in kept
