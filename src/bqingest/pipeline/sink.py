"""The warehouse sink: rows to BigQuery through the Storage Write API, nothing dropped.

Why our own sink: Beam's ``WriteToBigQuery`` cannot reach a local emulator (its REST client has a
fixed URL; its Storage Write path needs a Java expansion service), so the pipeline writes with
google-cloud-bigquery-storage, with endpoints taken from the options, the same code on both.

How a bundle is written (:class:`WarehouseWriter`, plain Python, no Beam):

* rows are grouped by table and appended to the table's ``_default`` stream as proto rows, in
  requests of at most ``max_request_bytes``/``max_request_rows``;
* **transient** errors (unavailable, deadline, aborted, resource exhausted, internal) and
  **configuration** errors (not found, permission denied) are retried by ``google.api_core``'s
  ``Retry`` (capped exponential backoff with jitter) until ``retry_timeout``, then
  :class:`SinkUnavailable` is raised: the bundle fails and the runner retries it (Dataflow) or
  the process stops and recovers on restart (local);
* **row errors** (BigQuery names the rows it refuses; the rest of the request is not written) send
  the named rows to ``dead_letters`` (stage ``sink``, reason ``sink_rejected``) and append the rest
  again;
* **UNKNOWN** refusing the whole request without naming rows is how bqemulator answers one
  malformed JSON value: the request is split in halves until the refused rows are isolated, and
  each of those is dead-lettered;
* any **other** error refusing the whole request (the table lacks a column the contract writes,
  say: BigQuery names bad rows in ``row_errors``, so a request-level error is about the request)
  is not a bad row: :class:`SinkRequestRefused` is raised with the cause, nothing is
  dead-lettered, and the bundle fails and is retried (Dataflow) or the pipeline stops and
  recovers on restart (local) once the cause is fixed;
* a row whose encoding alone is larger than one request may carry is refused before any append
  and dead-lettered (``sink_rejected``), so it never wedges the stream;
* an empty response is treated as UNAVAILABLE: after a server restart, the client's default retry
  re-opens the stream with an exhausted request iterator and returns no response at all, which
  would otherwise look like success. The sink therefore calls ``append_rows`` with ``retry=None``
  and does its own retrying.

Dead-letter rows go through the same path to the ``dead_letters`` table; if BigQuery refuses one
of those there is nowhere left to put it and :class:`SinkError` is raised. A dead letter whose
body was too long for its row (``payload_truncated``) has the whole body archived first
(:class:`~bqingest.pipeline.archive.PayloadArchive`), its URI in ``payload_uri``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Final, Protocol

import apache_beam as beam
from apache_beam import coders
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from google.api_core import exceptions
from google.api_core.retry import Retry, if_exception_type
from google.cloud.bigquery_storage_v1 import BigQueryWriteClient, types
from google.protobuf import descriptor_pb2

from bqingest import clients
from bqingest.config import Endpoints
from bqingest.contract.schema import DEAD_LETTERS, EVENTS, TableSpec
from bqingest.pipeline.archive import PayloadArchive
from bqingest.pipeline.errors import SinkError, SinkRequestRefused, SinkUnavailable
from bqingest.pipeline.metrics import WriteTally, count_written
from bqingest.pipeline.proto_rows import ProtoRowSchema, schema_for
from bqingest.pipeline.records import Destination, RowToWrite, sink_rejection, utc_now

logger = logging.getLogger(__name__)

SPEC_BY_DESTINATION: Final[Mapping[Destination, TableSpec]] = {
    Destination.EVENTS: EVENTS,
    Destination.DEAD_LETTERS: DEAD_LETTERS,
}

# Retried until the deadline: the service or our access to it will come back.
RETRYABLE: Final = (
    exceptions.ServiceUnavailable,
    exceptions.DeadlineExceeded,
    exceptions.GatewayTimeout,
    exceptions.BadGateway,
    exceptions.InternalServerError,
    exceptions.Aborted,
    exceptions.TooManyRequests,
    exceptions.Cancelled,
    exceptions.NotFound,
    exceptions.Forbidden,
    exceptions.Unauthorized,
)

# The Storage Write API takes requests up to 10 MB; leave room for the descriptor and framing.
MAX_REQUEST_BYTES: Final = 8 * 1024 * 1024
MAX_REQUEST_ROWS: Final = 10_000


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Rows BigQuery refused in one request, by index (empty: every row was written)."""

    row_errors: Mapping[int, str] = field(default_factory=dict)


class RowAppender(Protocol):
    """Appends serialized rows to a table's default stream; the seam tests replace."""

    def append(
        self, table_id: str, descriptor: descriptor_pb2.DescriptorProto, rows: Sequence[bytes]
    ) -> AppendResult:
        """Append ``rows``; return the refused ones; raise GoogleAPICallError otherwise."""
        ...

    def close(self) -> None: ...


def default_stream(table_id: str) -> str:
    """``project.dataset.table`` -> the table's ``_default`` write stream name."""
    project, dataset, table = table_id.split(".")
    return f"projects/{project}/datasets/{dataset}/tables/{table}/streams/_default"


class StorageWriteAppender:
    """:class:`RowAppender` on the BigQuery Storage Write API (one request per append)."""

    def __init__(self, client: BigQueryWriteClient, *, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    def append(
        self, table_id: str, descriptor: descriptor_pb2.DescriptorProto, rows: Sequence[bytes]
    ) -> AppendResult:
        request = types.AppendRowsRequest(
            write_stream=default_stream(table_id),
            proto_rows=types.AppendRowsRequest.ProtoData(
                writer_schema=types.ProtoSchema(proto_descriptor=descriptor),
                rows=types.ProtoRows(serialized_rows=list(rows)),
            ),
        )
        responses = list(
            self._client.append_rows(iter([request]), retry=None, timeout=self._timeout)
        )
        if not responses:
            raise exceptions.ServiceUnavailable(
                f"AppendRows on {table_id} closed without a response"
            )
        response = responses[0]
        if response.row_errors:
            return AppendResult({error.index: error.message for error in response.row_errors})
        if response.error.code:
            raise exceptions.from_grpc_status(
                response.error.code, response.error.message or "AppendRows failed"
            )
        return AppendResult()

    def close(self) -> None:
        self._client.transport.close()


@dataclass(frozen=True)
class StorageWriteApi:
    """Picklable recipe for a :class:`StorageWriteAppender`, built on the worker in ``setup``.

    ``endpoints`` name bqemulator's Storage API locally and no emulator on GCP: workers have no
    ``BQINGEST_*`` environment, so the client comes from what the options named.
    """

    endpoints: Endpoints
    timeout: float = 60.0

    def __call__(self) -> StorageWriteAppender:
        client = clients.bigquery_write_client(self.endpoints)
        return StorageWriteAppender(client, timeout=self.timeout)


@dataclass
class WriteOutcome:
    """What one :meth:`WarehouseWriter.write` did."""

    events_written: list[RowToWrite] = field(default_factory=list)
    dead_letters_written: list[RowToWrite] = field(default_factory=list)
    sink_rejected: int = 0
    retries: int = 0


@dataclass
class _Encoded:
    row: RowToWrite
    data: bytes


class WarehouseWriter:
    """Writes rows to their tables with retries, splitting and dead-lettering (module docstring)."""

    def __init__(
        self,
        appender: RowAppender,
        *,
        tables: Mapping[Destination, str],
        retry_timeout: float = 300.0,
        initial_backoff: float = 0.1,
        max_backoff: float = 10.0,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_request_rows: int = MAX_REQUEST_ROWS,
        clock: Callable[[], Any] = utc_now,
        archive: PayloadArchive | None = None,
    ) -> None:
        self._appender = appender
        self._archive = archive
        self._tables = dict(tables)
        self._retry_timeout = retry_timeout
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._max_request_bytes = max_request_bytes
        self._max_request_rows = max_request_rows
        self._clock = clock

    def write(self, rows: Sequence[RowToWrite]) -> WriteOutcome:
        """Write every row, or raise: events first, then every dead letter (old and new)."""
        outcome = WriteOutcome()
        events = [r for r in rows if r.destination is Destination.EVENTS]
        dead_letters = [r for r in rows if r.destination is Destination.DEAD_LETTERS]
        if events:
            written, rejected = self._write_table(Destination.EVENTS, events, outcome)
            outcome.events_written = written
            outcome.sink_rejected = len(rejected)
            now = self._clock()
            dead_letters += [sink_rejection(row, reason, now=now) for row, reason in rejected]
        if dead_letters:
            dead_letters = [self._archived(row) for row in dead_letters]
            written, rejected = self._write_table(Destination.DEAD_LETTERS, dead_letters, outcome)
            outcome.dead_letters_written = written
            if rejected:
                details = "; ".join(
                    f"{row.row.get('dead_letter_id')}: {reason}" for row, reason in rejected[:5]
                )
                raise SinkError(
                    f"BigQuery refused {len(rejected)} dead-letter row(s) of "
                    f"{self._tables[Destination.DEAD_LETTERS]}, which leaves them nowhere to go: "
                    f"{details}"
                )
        return outcome

    def _archived(self, row: RowToWrite) -> RowToWrite:
        """``row`` with ``payload_uri`` set once a truncated body is stored whole."""
        if not row.row.get("payload_truncated") or row.row.get("payload_uri") or not self._archive:
            return row
        uri = self._archive.put(str(row.row["dead_letter_id"]), row.message.data)
        return replace(row, row={**row.row, "payload_uri": uri})

    def _write_table(
        self, destination: Destination, rows: list[RowToWrite], outcome: WriteOutcome
    ) -> tuple[list[RowToWrite], list[tuple[RowToWrite, str]]]:
        schema = schema_for(SPEC_BY_DESTINATION[destination])
        table_id = self._tables[destination]
        encoded: list[_Encoded] = []
        rejected: list[tuple[RowToWrite, str]] = []
        for row in rows:
            try:
                data = schema.encode(row.row)
            except (ValueError, TypeError) as exc:
                rejected.append((row, f"the row cannot be encoded: {exc}"))
                continue
            if len(data) > self._max_request_bytes:
                rejected.append(
                    (
                        row,
                        f"the row is {len(data)} bytes, over the {self._max_request_bytes} bytes "
                        "one append may carry",
                    )
                )
                continue
            encoded.append(_Encoded(row, data))
        written: list[RowToWrite] = []
        for chunk in self._chunks(encoded):
            ok, refused = self._append_chunk(table_id, schema, chunk, outcome)
            written += ok
            rejected += refused
        return written, rejected

    def _chunks(self, encoded: list[_Encoded]) -> Iterator[list[_Encoded]]:
        chunk: list[_Encoded] = []
        size = 0
        for item in encoded:
            if chunk and (
                size + len(item.data) > self._max_request_bytes
                or len(chunk) >= self._max_request_rows
            ):
                yield chunk
                chunk, size = [], 0
            chunk.append(item)
            size += len(item.data)
        if chunk:
            yield chunk

    def _append_chunk(
        self,
        table_id: str,
        schema: ProtoRowSchema,
        chunk: list[_Encoded],
        outcome: WriteOutcome,
    ) -> tuple[list[RowToWrite], list[tuple[RowToWrite, str]]]:
        pending = chunk
        rejected: list[tuple[RowToWrite, str]] = []

        def retrying(error: Exception) -> None:
            outcome.retries += 1
            logger.warning("append to %s failed (%s); retrying", table_id, error)

        retry = Retry(
            predicate=if_exception_type(*RETRYABLE),
            initial=self._initial_backoff,
            maximum=self._max_backoff,
            multiplier=2.0,
            timeout=self._retry_timeout,
            on_error=retrying,
        )
        append = retry(self._appender.append)
        while pending:
            try:
                result = append(table_id, schema.descriptor, [item.data for item in pending])
            except exceptions.RetryError as exc:
                raise SinkUnavailable(
                    f"writing {len(pending)} row(s) to {table_id} still fails after "
                    f"{self._retry_timeout:g}s of retries: {exc.cause}"
                ) from exc
            except exceptions.Unknown as exc:  # bqemulator: one row refused, none named
                if len(pending) == 1:
                    rejected.append((pending[0].row, str(exc.message or exc)))
                    return [], rejected
                middle = len(pending) // 2
                written: list[RowToWrite] = []
                for half in (pending[:middle], pending[middle:]):
                    ok, refused = self._append_chunk(table_id, schema, half, outcome)
                    written += ok
                    rejected += refused
                return written, rejected
            except exceptions.GoogleAPICallError as exc:
                raise SinkRequestRefused(
                    f"BigQuery refused the whole append of {len(pending)} row(s) to {table_id} "
                    f"({type(exc).__name__}: {exc.message or exc}); nothing was written or "
                    "dead-lettered: fix the cause (a table whose schema lags the contract: run "
                    "`bqingest bootstrap` locally or apply Terraform) and the rows are written"
                ) from exc
            if not result.row_errors:
                return [item.row for item in pending], rejected
            refused_rows = {i: m for i, m in result.row_errors.items() if 0 <= i < len(pending)}
            if not refused_rows:
                raise SinkError(
                    f"BigQuery reported row errors for rows that were not sent: "
                    f"{dict(result.row_errors)}"
                )
            rejected += [(pending[i].row, message) for i, message in refused_rows.items()]
            pending = [item for i, item in enumerate(pending) if i not in refused_rows]
        return [], rejected


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


class OverlappedWrites:
    """Writes one batch at a time on a thread of its own while the pipeline goes on reading.

    For the local runner only (:class:`WriteRows` with ``overlap=True``). That runner runs one
    step at a time on one thread, so a synchronous write leaves the pipeline idle while the
    warehouse appends (bqemulator, another process, spends about 35 us per row; docs/
    performance.md); here the next batch is read and parsed meanwhile. Why it keeps what the
    local pipeline promises: the runner acknowledges messages when it pulls them, so durability
    never came from a write finishing before the next read, but from recovery (seek back from
    the newest publish time written, docs/adr/0002), which covers a batch being written as it
    covers a batch waiting. A write that fails (after :class:`WarehouseWriter`'s retries)
    fails every later one: :meth:`write` and :meth:`wait` raise its error from then on, so the
    pipeline stops with no later batch written, and recovery replays from before the failed one.
    On Dataflow writes stay synchronous: a bundle may commit only once its batch is written.
    """

    def __init__(self, writer: WarehouseWriter, on_written: Callable[[WriteOutcome], None]) -> None:
        self._writer = writer
        self._on_written = on_written
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bqingest-write")
        self._lock = threading.Lock()
        self._in_flight: Future[None] | None = None
        self._failed: BaseException | None = None

    def write(self, rows: list[RowToWrite]) -> None:
        """Wait for the write in flight (raising its error), then start writing ``rows``."""
        with self._lock:
            self._wait_locked()
            self._in_flight = self._executor.submit(self._write, rows)

    def wait(self) -> None:
        """Wait for the write in flight; raise the error of any write that failed."""
        with self._lock:
            self._wait_locked()

    def _wait_locked(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.exception()  # its error is kept in self._failed
        if self._failed is not None:
            raise SinkError(f"an earlier batch could not be written: {self._failed}")

    def _write(self, rows: list[RowToWrite]) -> None:
        try:
            outcome = self._writer.write(rows)
        except BaseException as exc:
            self._failed = exc
            logger.error("writing a batch of %d row(s) failed: %s", len(rows), exc)
            raise
        self._on_written(outcome)


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
