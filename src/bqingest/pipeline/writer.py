"""The warehouse writer: rows to BigQuery through the Storage Write API, nothing dropped.

Plain Python, no Beam: the Beam step that batches rows and drives this writer is
:mod:`bqingest.pipeline.sink`.

Why our own sink: Beam's ``WriteToBigQuery`` cannot reach a local emulator (its REST client has a
fixed URL; its Storage Write path needs a Java expansion service), so the pipeline writes with
google-cloud-bigquery-storage, with endpoints taken from the options, the same code on both.

How a bundle is written (:class:`WarehouseWriter`, plain Python, no Beam):

* rows are grouped by table and appended to the table's ``_default`` stream as proto rows, in
  requests of at most ``max_request_bytes``/``max_request_rows``;
* **transient** errors (unavailable, deadline, aborted, resource exhausted, internal) and
  **configuration** errors (not found, permission denied) are retried with ``google.api_core``'s
  capped exponential backoff with jitter until ``retry_timeout`` (sleeping and reading the
  deadline through the writer's ``sleep`` and ``monotonic``, which tests replace), then
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Protocol

from google.api_core import exceptions
from google.api_core.retry import exponential_sleep_generator
from google.cloud.bigquery_storage_v1 import BigQueryWriteClient, types
from google.protobuf import descriptor_pb2

from bqingest import clients
from bqingest.clock import utc_now
from bqingest.config import Endpoints
from bqingest.contract.schema import DEAD_LETTERS, EVENTS, TableSpec
from bqingest.pipeline.errors import SinkError, SinkRequestRefused, SinkUnavailable
from bqingest.pipeline.processing import Destination, RowToWrite, sink_rejection
from bqingest.pipeline.proto_rows import ProtoRowSchema, schema_for

if TYPE_CHECKING:  # the archive works through Beam's filesystems; the writer only calls it
    from bqingest.pipeline.archive import PayloadArchive

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
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
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
        self._sleep = sleep
        self._monotonic = monotonic

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

        while pending:
            rows = [item.data for item in pending]
            try:
                result = self._retried(
                    partial(self._appender.append, table_id, schema.descriptor, rows), retrying
                )
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

    def _retried(
        self, append: Callable[[], AppendResult], on_error: Callable[[Exception], None]
    ) -> AppendResult:
        """``append()``, retried as ``google.api_core``'s ``Retry`` retries: a :data:`RETRYABLE`
        error is tried again after a capped exponential backoff with full jitter, until the next
        sleep would cross ``retry_timeout``; then ``RetryError`` with the last error as its cause.
        Sleeps and the deadline go through the writer's ``sleep`` and ``monotonic``."""
        deadline = self._monotonic() + self._retry_timeout
        backoff = exponential_sleep_generator(
            self._initial_backoff, self._max_backoff, multiplier=2.0
        )
        while True:
            try:
                return append()
            except RETRYABLE as exc:
                on_error(exc)
                pause = next(backoff)
                if self._monotonic() + pause > deadline:
                    raise exceptions.RetryError(
                        f"Timeout of {self._retry_timeout:.1f}s exceeded", exc
                    ) from exc
                self._sleep(pause)


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
