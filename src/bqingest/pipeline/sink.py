"""The Beam step that writes rows to the warehouse: :class:`WriteToWarehouse` and its stateful
:class:`WriteRows`, which batch rows across bundles and hand each batch to the Beam-free
:class:`~bqingest.pipeline.writer.WarehouseWriter` (retries, row errors to dead letters: see
:mod:`bqingest.pipeline.writer`), and count what each write did.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Final

import apache_beam as beam
from apache_beam import coders
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)

from bqingest.clock import utc_now
from bqingest.pipeline.archive import PayloadArchive
from bqingest.pipeline.metrics import WriteTally, count_written
from bqingest.pipeline.processing import Destination, RowToWrite
from bqingest.pipeline.writer import (
    MAX_REQUEST_BYTES,
    OverlappedWrites,
    RowAppender,
    WarehouseWriter,
    WriteOutcome,
)

# Batches across bundles (WriteRows). A batch is written when it holds BATCH_ROWS rows or about
# BATCH_BYTES, or BATCH_DELAY_SECONDS after its first row, whichever comes first.
BATCH_ROWS: Final = 1000
BATCH_BYTES: Final = MAX_REQUEST_BYTES  # estimated: a full batch is about one request
BATCH_DELAY_SECONDS: Final = 0.5
ROW_OVERHEAD_BYTES: Final = 1024  # the columns besides the payload, generously


def estimated_bytes(row: RowToWrite) -> int:
    """About what ``row`` weighs in a request: its payload (an event row keeps the data, a dead
    letter the raw payload), its attributes, and the other columns."""
    message = row.message
    attributes = sum(len(k) + len(v) for k, v in message.attributes.items())
    return len(message.data) + attributes + ROW_OVERHEAD_BYTES


@lru_cache(maxsize=8)
def _shared_writer(
    connect: Callable[[], RowAppender],
    tables: tuple[tuple[Destination, str], ...],
    retry_timeout: float,
    archive: PayloadArchive | None,
) -> WarehouseWriter:
    """One writer (and one Storage Write client) per process and configuration.

    The local runner sets up a new instance of every DoFn for every bundle (and tears it down
    after); Dataflow keeps instances for many bundles, on many threads. Either way the client's
    channel is opened once per process and lives as long as it: gRPC clients are thread-safe.
    """
    return WarehouseWriter(
        connect(), tables=dict(tables), retry_timeout=retry_timeout, archive=archive
    )


def count_outcome(outcome: WriteOutcome) -> None:
    """Count what one write did, as it finishes (its freshness ends now)."""
    count_written(tally_of(outcome), utc_now())


@lru_cache(maxsize=8)
def _shared_overlapped(
    connect: Callable[[], RowAppender],
    tables: tuple[tuple[Destination, str], ...],
    retry_timeout: float,
    archive: PayloadArchive | None,
) -> OverlappedWrites:
    """One overlapped writer per process and configuration (see :func:`_shared_writer`)."""
    return OverlappedWrites(_shared_writer(connect, tables, retry_timeout, archive), count_outcome)


def tally_of(outcome: WriteOutcome) -> WriteTally:
    """What a write did, as the metrics count it."""
    return WriteTally(
        events_written=len(outcome.events_written),
        dead_letters=Tally(
            (str(row.row["reason"]), str(row.row["stage"])) for row in outcome.dead_letters_written
        ),
        sink_rejected=outcome.sink_rejected,
        retries=outcome.retries,
        publish_times=[
            row.publish_time for row in outcome.events_written if row.publish_time is not None
        ],
    )


# WriteRows' state and timers, per key and window, and the parameters that hand them to its
# methods (module-level: Beam reads them from the methods' defaults).
_ROWS: Final = BagStateSpec("rows", coders.PickleCoder())
_SIZE: Final = ReadModifyWriteStateSpec("size", coders.TupleCoder((coders.VarIntCoder(),) * 2))
_DELAY: Final = TimerSpec("delay", TimeDomain.REAL_TIME)
_WINDOW_END: Final = TimerSpec("window_end", TimeDomain.WATERMARK)
_ROWS_PARAM: Final = beam.DoFn.StateParam(_ROWS)
_SIZE_PARAM: Final = beam.DoFn.StateParam(_SIZE)
_DELAY_PARAM: Final = beam.DoFn.TimerParam(_DELAY)
_WINDOW_END_PARAM: Final = beam.DoFn.TimerParam(_WINDOW_END)


class WriteRows(beam.DoFn):
    """Batches rows across bundles, per shard, and writes each batch with one WarehouseWriter.

    Input: ``(shard, RowToWrite)`` (``events`` and ``dead_letters`` rows alike). For each shard
    the rows wait in a bag (state) with their count and estimated size, and a batch is written
    (:meth:`WarehouseWriter.write`: retries, row errors to dead letters) when it reaches
    ``max_rows`` rows or ``max_bytes``, when a processing-time timer fires ``max_delay_seconds``
    after its first row, or when its window ends (a drain on Dataflow, the end of a bounded
    input). State and timers are the runner's, so the batch survives what the runner survives: on
    Dataflow a failed write leaves the bag as it was and the work is retried; on the local runner
    a failure stops the pipeline, and recovery reads the batch's messages again on restart
    (docs/adr/0002-local-runner-recovery.md).

    With ``overlap`` (the local runner), a batch is handed to :class:`OverlappedWrites` and
    written while the pipeline reads on; its state is cleared when it is handed over.

    Counters (namespace ``bqingest``, each with its Prometheus twin: :mod:`..metrics`), counted
    once per batch: ``rows_written_events``, ``rows_written_dead_letters``,
    ``dead_letters_<reason>``, ``sink_rejected``, ``sink_retries``; distribution
    ``publish_to_write_lag_ms`` (publish time to the end of the batch's successful write).
    Overlapped writes finish outside any bundle, so they update the Prometheus series only
    (the local runner's Beam counters under-report anyway: docs/adr/0002).
    """

    def __init__(
        self,
        *,
        tables: Mapping[Destination, str],
        connect: Callable[[], RowAppender],
        retry_timeout: float = 300.0,
        max_rows: int = BATCH_ROWS,
        max_bytes: int = BATCH_BYTES,
        max_delay_seconds: float = BATCH_DELAY_SECONDS,
        overlap: bool = False,
        archive: PayloadArchive | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._tables = tuple(sorted(tables.items()))
        self._connect = connect
        self._archive = archive
        self._retry_timeout = retry_timeout
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._max_delay = max_delay_seconds
        self._overlap = overlap
        self._clock = clock

    def setup(self) -> None:
        recipe = (self._connect, self._tables, self._retry_timeout, self._archive)
        if self._overlap:
            self._write = _shared_overlapped(*recipe).write
        else:
            writer = _shared_writer(*recipe)
            self._write = lambda rows: count_outcome(writer.write(rows))

    def process(
        self,
        element: tuple[int, RowToWrite],
        window: Any = beam.DoFn.WindowParam,
        rows: Any = _ROWS_PARAM,
        size: Any = _SIZE_PARAM,
        delay: Any = _DELAY_PARAM,
        window_end: Any = _WINDOW_END_PARAM,
    ) -> None:
        _, row = element
        count, weight = size.read() or (0, 0)
        if count == 0:  # the first row of a batch: start its clock
            delay.set(self._clock() + self._max_delay)
            window_end.set(window.end)
        rows.add(row)
        count, weight = count + 1, weight + estimated_bytes(row)
        if count >= self._max_rows or weight >= self._max_bytes:
            self._flush(rows, size, delay)
        else:
            size.write((count, weight))

    @on_timer(_DELAY)
    def on_delay(
        self,
        rows: Any = _ROWS_PARAM,
        size: Any = _SIZE_PARAM,
        delay: Any = _DELAY_PARAM,
    ) -> None:
        self._flush(rows, size, delay)

    @on_timer(_WINDOW_END)
    def on_window_end(
        self,
        rows: Any = _ROWS_PARAM,
        size: Any = _SIZE_PARAM,
        delay: Any = _DELAY_PARAM,
    ) -> None:
        self._flush(rows, size, delay)

    def _flush(self, rows: Any, size: Any, delay: Any) -> None:
        batch = list(rows.read())
        if batch:
            self._write(batch)
        rows.clear()
        size.clear()
        delay.clear()


class WriteToWarehouse(beam.PTransform[Any, Any]):
    """Writes keyed ``events`` and ``dead_letters`` rows in batches (one sink for both tables).

    Input: ``(shard, RowToWrite)``, as :class:`~bqingest.pipeline.transforms.ParseAndValidate`
    makes them; the batch bounds are :class:`WriteRows`'. ``overlap_writes``: the local runner's
    (:class:`OverlappedWrites`). ``archive``: where dead letters too long for their row keep
    their whole body (:class:`~bqingest.pipeline.archive.PayloadArchive`).
    """

    def __init__(
        self,
        *,
        events_table: str,
        dead_letter_table: str,
        connect: Callable[[], RowAppender],
        retry_timeout: float = 300.0,
        max_batch_rows: int = BATCH_ROWS,
        max_batch_bytes: int = BATCH_BYTES,
        max_delay_seconds: float = BATCH_DELAY_SECONDS,
        overlap_writes: bool = False,
        archive: PayloadArchive | None = None,
    ) -> None:
        super().__init__()
        self._write = WriteRows(
            tables={Destination.EVENTS: events_table, Destination.DEAD_LETTERS: dead_letter_table},
            connect=connect,
            retry_timeout=retry_timeout,
            max_rows=max_batch_rows,
            max_bytes=max_batch_bytes,
            max_delay_seconds=max_delay_seconds,
            overlap=overlap_writes,
            archive=archive,
        )

    def expand(self, rows: Any) -> Any:
        return rows | "WriteRows" >> beam.ParDo(self._write)
