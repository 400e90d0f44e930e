"""WriteRows batches rows across bundles: by count, by size, by delay, at the window's end.

TestStream runs the streaming pipeline offline with a test clock: each ``add_elements`` is a
bundle of its own, ``advance_processing_time`` moves the clock the delay timer reads. The DoFn's
own clock (the delay's start) is pinned at 0 here, where the test clock starts.
"""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline, test_stream
from google.api_core import exceptions

from bqingest.pipeline.processing import Destination, RowToWrite
from bqingest.pipeline.sink import (
    ROW_OVERHEAD_BYTES,
    WriteRows,
    WriteToWarehouse,
    estimated_bytes,
)
from bqingest.pipeline.writer import AppendResult
from tests.unit.pipeline.test_sink import RECORDED, RecordingConnect
from tests.unit.pipeline.test_writer import TABLES, event, rejected


def at_zero() -> float:
    return 0.0


def keyed(rows: list[RowToWrite]) -> list[tuple[int, RowToWrite]]:
    return [(0, row) for row in rows]


def run(stream: test_stream.TestStream, connect: RecordingConnect, **bounds: float) -> None:
    options = test_pipeline.TestPipeline(runner="BundleBasedDirectRunner").get_pipeline_options()
    options.view_as(beam.options.pipeline_options.StandardOptions).streaming = True
    with beam.Pipeline(runner="BundleBasedDirectRunner", options=options) as pipeline:
        _ = (
            pipeline
            | stream
            | beam.ParDo(
                WriteRows(tables=TABLES, connect=connect, clock=at_zero, **bounds)  # type: ignore[arg-type]
            )
        )


def appends(key: str) -> list[tuple[str, list[str]]]:
    """(table, ids or message ids) of every append the fake saw, in order."""
    return [
        (table, [row.get("id") or row["message_id"] for row in rows])
        for table, rows in RECORDED[key].calls
    ]


def test_rows_of_several_bundles_wait_for_the_delay_and_go_in_one_append() -> None:
    connect = RecordingConnect("delay")
    stream = (
        test_stream.TestStream()
        .add_elements(keyed([event(0), event(1), event(2)]))
        .advance_processing_time(0.3)
        .add_elements(keyed([event(3), event(4)]))
        .advance_processing_time(0.3)  # 0.6 s after the batch's first row: past the 0.5 s delay
        .add_elements(keyed([event(5)]))
        .advance_processing_time(0.6)
        .advance_watermark_to_infinity()
    )
    run(stream, connect, max_delay_seconds=0.5)
    assert appends("delay") == [
        (TABLES[Destination.EVENTS], ["e0", "e1", "e2", "e3", "e4"]),
        (TABLES[Destination.EVENTS], ["e5"]),
    ]


def test_a_full_batch_is_written_at_once_and_the_rest_waits() -> None:
    connect = RecordingConnect("count")
    stream = (
        test_stream.TestStream()
        .add_elements(keyed([event(0), event(1)]))
        .add_elements(keyed([event(2), event(3)]))
        .add_elements(keyed([event(4)]))
        .advance_processing_time(1)
        .advance_watermark_to_infinity()
    )
    run(stream, connect, max_rows=3, max_delay_seconds=0.5)
    assert appends("count") == [
        (TABLES[Destination.EVENTS], ["e0", "e1", "e2"]),
        (TABLES[Destination.EVENTS], ["e3", "e4"]),
    ]


def test_a_batch_is_written_when_its_estimated_size_reaches_the_bound() -> None:
    connect = RecordingConnect("bytes")
    rows = [event(n) for n in range(5)]
    two = estimated_bytes(rows[0]) + estimated_bytes(rows[1])
    assert estimated_bytes(rows[0]) > ROW_OVERHEAD_BYTES
    stream = test_stream.TestStream().add_elements(keyed(rows)).advance_watermark_to_infinity()
    run(stream, connect, max_bytes=two, max_delay_seconds=60)
    assert [len(ids) for _, ids in appends("bytes")] == [2, 2, 1]


def test_what_is_left_when_the_window_ends_is_written() -> None:
    """A drain on Dataflow and the end of a bounded input both end the window."""
    connect = RecordingConnect("end")
    stream = (
        test_stream.TestStream()
        .add_elements(keyed([event(0), event(1)]))
        .advance_watermark_to_infinity()
    )
    run(stream, connect, max_delay_seconds=3600)
    assert appends("end") == [(TABLES[Destination.EVENTS], ["e0", "e1"])]


def test_one_batch_holds_both_tables_and_refused_rows_become_dead_letters() -> None:
    def refuse_e1(rows: list[dict]) -> AppendResult:
        return AppendResult({i: "no" for i, row in enumerate(rows) if row.get("id") == "e1"})

    connect = RecordingConnect("mixed", refuse_e1)
    stream = (
        test_stream.TestStream()
        .add_elements(keyed([event(0), rejected(7)]))
        .add_elements(keyed([event(1)]))
        .advance_processing_time(1)
        .advance_watermark_to_infinity()
    )
    run(stream, connect, max_delay_seconds=0.5)
    written = RECORDED["mixed"].written
    assert [row["id"] for row in written[TABLES[Destination.EVENTS]]] == ["e0"]
    letters = written[TABLES[Destination.DEAD_LETTERS]]
    assert sorted((dl["message_id"], dl["reason"]) for dl in letters) == [
        ("bad7", "not_json"),
        ("m1", "sink_rejected"),
    ]


def test_a_write_that_still_fails_after_its_retries_fails_the_pipeline() -> None:
    """The failure reaches the runner (which retries the work, or stops): never swallowed."""
    connect = RecordingConnect("fails")
    RECORDED["fails"].append = _always_down  # type: ignore[method-assign]
    rows = [event(0), event(1)]
    with (
        pytest.raises(Exception, match="still fails after"),
        test_pipeline.TestPipeline(runner="BundleBasedDirectRunner") as pipeline,
    ):
        _ = (
            pipeline
            | beam.Create(keyed(rows))
            | WriteToWarehouse(
                events_table=TABLES[Destination.EVENTS],
                dead_letter_table=TABLES[Destination.DEAD_LETTERS],
                connect=connect,
                retry_timeout=0.2,
                max_batch_rows=2,
            )
        )


def _always_down(table_id: str, descriptor: object, rows: object) -> AppendResult:
    raise exceptions.ServiceUnavailable("down")


class SlowAppender:
    """Records when each append starts and ends; the first ``fail`` appends raise."""

    def __init__(self, seconds: float, fail: int = 0) -> None:
        self.seconds, self.fail = seconds, fail
        self.spans: list[tuple[float, float, int]] = []

    def append(self, table_id: str, descriptor: object, rows: list[bytes]) -> AppendResult:
        import time

        started = time.monotonic()
        time.sleep(self.seconds)
        if self.fail:
            self.fail -= 1
            raise exceptions.ServiceUnavailable("down")
        self.spans.append((started, time.monotonic(), len(rows)))
        return AppendResult()

    def close(self) -> None:
        pass


def test_overlapped_writes_run_one_at_a_time_in_order_while_the_caller_goes_on() -> None:
    import time

    from bqingest.pipeline.writer import OverlappedWrites, WarehouseWriter

    appender = SlowAppender(0.2)
    written: list[int] = []
    writes = OverlappedWrites(
        WarehouseWriter(appender, tables=TABLES),  # type: ignore[arg-type]
        lambda outcome: written.append(len(outcome.events_written)),
    )
    started = time.monotonic()
    writes.write([event(0), event(1)])
    handed_over = time.monotonic() - started
    writes.write([event(2)])  # waits for the first
    writes.wait()
    assert handed_over < 0.1  # the caller did not wait for the append
    assert written == [2, 1]
    (_, first_end, _), (second_start, _, _) = appender.spans
    assert first_end <= second_start  # never two at once


def test_a_failed_overlapped_write_fails_every_later_one() -> None:
    from bqingest.pipeline.errors import SinkError
    from bqingest.pipeline.writer import OverlappedWrites, WarehouseWriter

    appender = SlowAppender(0.0, fail=100)
    writes = OverlappedWrites(
        WarehouseWriter(appender, tables=TABLES, retry_timeout=0.05),  # type: ignore[arg-type]
        lambda outcome: None,
    )
    writes.write([event(0)])
    with pytest.raises(SinkError, match="an earlier batch could not be written"):
        writes.write([event(1)])
    with pytest.raises(SinkError):
        writes.wait()
    assert appender.spans == []  # nothing after the failure was written either


def test_overlapped_writes_in_a_pipeline_write_every_row_once() -> None:
    from bqingest.pipeline.sink import _shared_overlapped

    connect = RecordingConnect("overlap")
    stream = (
        test_stream.TestStream()
        .add_elements(keyed([event(0), event(1)]))
        .advance_processing_time(0.6)
        .add_elements(keyed([event(2), rejected(3)]))
        .advance_processing_time(0.6)
        .advance_watermark_to_infinity()
    )
    run(stream, connect, max_delay_seconds=0.5, overlap=True)
    _shared_overlapped(connect, tuple(sorted(TABLES.items())), 300.0, None).wait()
    written = RECORDED["overlap"].written
    assert sorted(row["id"] for row in written[TABLES[Destination.EVENTS]]) == ["e0", "e1", "e2"]
    assert [dl["message_id"] for dl in written[TABLES[Destination.DEAD_LETTERS]]] == ["bad3"]
