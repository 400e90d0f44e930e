"""Reading events: the API's queries, over the ``events`` table, one row per event.

An event is identified by ``(source, id)`` (CloudEvents ids are unique per source); the table
holds every delivery, so each query de-duplicates with the contract's window
(:data:`~bqingest.contract.schema.DEDUP_WINDOW`: the earliest publish wins, then the earliest
write). It does so *after* filtering the table, not through the ``events_dedup`` view, because
the view's window keeps BigQuery from pruning partitions: every filter, the time window on the
partition column first, sits in the ``WHERE`` of the ``SELECT`` that reads the table, so what a
query scans follows its window, not the table (docs/adr/0009-identity-and-read-cost.md). That is
correct because every delivery of one event carries the same ``time``, ``type``, ``source`` and
``subject``: a filter keeps all of an event's rows or none.

* by id: ``WHERE id = @id`` on the clustering column, at most a few sources;
* list, export: keyset pages in ``(time, source, id)`` order, a total order, each starting
  strictly after the last row of the previous one;
* count: per type or source, optionally per hour or day.

Values always travel as query parameters; the SQL text is assembled from constants and the table
id, which comes from validated settings. :class:`EventStore` implements :class:`EventReader`, the
protocol the API depends on; tests give the API a fake. Methods block (google-cloud-bigquery is
synchronous): the API calls them from its thread pool. The client is made on first use, so an app
starts without credentials or network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_RETRY

from bqingest.contract.schema import DEDUP_WINDOW, EVENTS
from bqingest.contract.typed_views import scalar_expression
from bqingest.warehouse.query import query
from bqingest.warehouse.records import (
    Bucket,
    CountRow,
    EventFilter,
    EventRecord,
    Export,
    GroupBy,
    Order,
    Position,
)

_COLUMNS: Final = ", ".join(EVENTS.column_names)
_FILTER_CLAUSES: Final = {
    "type": "type = @type",
    "source": "source = @source",
    "subject": "subject = @subject",
}
_AFTER_CLAUSE: Final[Mapping[Order, str]] = {
    "asc": "(time > @after_time OR (time = @after_time AND "
    "(source > @after_source OR (source = @after_source AND id > @after_id))))",
    "desc": "(time < @after_time OR (time = @after_time AND "
    "(source < @after_source OR (source = @after_source AND id < @after_id))))",
}
# The keyset's time bound repeated as a plain range: BigQuery prunes partitions only on simple
# comparisons of the partition column, not on the OR above.
_AFTER_RANGE: Final[Mapping[Order, str]] = {
    "asc": "time >= @after_time",
    "desc": "time <= @after_time",
}
_ORDER_BY: Final[Mapping[Order, str]] = {
    "asc": "time ASC, source ASC, id ASC",
    "desc": "time DESC, source DESC, id DESC",
}
_GROUP_COLUMN: Final[Mapping[GroupBy, str]] = {"type": "type", "source": "source"}
_BUCKET_EXPRESSION: Final[Mapping[Bucket, str]] = {
    "hour": "TIMESTAMP_TRUNC(time, HOUR)",
    "day": "TIMESTAMP_TRUNC(time, DAY)",
}

Parameter = bigquery.ScalarQueryParameter


class EventReader(Protocol):
    """Reads of the de-duplicated events. Methods block; they raise on failure."""

    def get_events(self, event_id: str, *, source: str | None, limit: int) -> list[EventRecord]:
        """The events with this id (one per source, at most ``limit``), ordered by source."""

    def list_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> list[EventRecord]: ...

    def count_events(
        self, *, filters: EventFilter, group_by: GroupBy, bucket: Bucket | None, limit: int
    ) -> list[CountRow]: ...

    def export_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> Export:
        """Up to ``limit`` events; ``Export.total_rows`` is always known before the first page."""

    def check(self) -> None:
        """Raise unless the events can be read (a metadata call: no query, no cost)."""


@dataclass(frozen=True, slots=True)
class QueryBounds:
    """Bounds every call carries: a deadline (seconds) and the bytes BigQuery may bill."""

    timeout: float
    maximum_bytes_billed: int
    check_timeout: float


def where_clause(
    filters: EventFilter, *, after: Position | None = None, order: Order = "asc"
) -> tuple[str, list[Parameter]]:
    """The ``WHERE`` that selects the rows of ``filters`` after ``after``, and its parameters.

    Every condition is on columns all deliveries of an event share, so it may be applied to the
    table before de-duplicating (module docstring).
    """
    clauses: list[str] = []
    parameters: list[Parameter] = []
    if filters.since is not None:
        clauses.append("time >= @since")
        parameters.append(Parameter("since", "TIMESTAMP", filters.since))
    if filters.until is not None:
        clauses.append("time < @until")
        parameters.append(Parameter("until", "TIMESTAMP", filters.until))
    if after is not None:
        clauses += [_AFTER_RANGE[order], _AFTER_CLAUSE[order]]
        parameters.append(Parameter("after_time", "TIMESTAMP", after.time))
        parameters.append(Parameter("after_source", "STRING", after.source))
        parameters.append(Parameter("after_id", "STRING", after.id))
    for name, clause in _FILTER_CLAUSES.items():
        value = getattr(filters, name)
        if value is not None:
            clauses.append(clause)
            parameters.append(Parameter(name, "STRING", value))
    for index, wanted in enumerate(filters.data):  # data is the same in every delivery
        clauses.append(f"{scalar_expression(wanted.name, wanted.type)} = @data_{index}")
        parameters.append(Parameter(f"data_{index}", wanted.type, wanted.value))
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), parameters


def deduplicated(table_id: str, where: str, columns: str = _COLUMNS) -> str:
    """``columns`` of one row per event among the table's rows matching ``where``."""
    return (
        f"SELECT {columns} FROM ("  # noqa: S608 (module docstring)
        f"SELECT {columns}, ROW_NUMBER() OVER ({DEDUP_WINDOW}) AS _n "
        f"FROM `{table_id}` {where}"
        ") WHERE _n = 1"
    )


def page_sql(table_id: str, where: str, order: Order) -> str:
    """The events of ``where`` in keyset ``order``, at most ``@limit``."""
    return f"{deduplicated(table_id, where)} ORDER BY {_ORDER_BY[order]} LIMIT @limit"


def by_id_sql(table_id: str, *, with_source: bool) -> str:
    """The events with ``@id`` (and ``@source``), one per source, at most ``@limit``."""
    where = "WHERE id = @id AND source = @source" if with_source else "WHERE id = @id"
    return f"{deduplicated(table_id, where)} ORDER BY source LIMIT @limit"


def count_sql(table_id: str, where: str, group_by: GroupBy, bucket: Bucket | None) -> str:
    """Events per ``group_by`` (and time bucket) among the events of ``where``."""
    key = _GROUP_COLUMN[group_by]
    events = deduplicated(table_id, where, columns="type, source, time")
    if bucket is None:
        return (
            f"SELECT {key} AS key, COUNT(*) AS n FROM ({events}) "  # noqa: S608
            "GROUP BY key ORDER BY key LIMIT @limit"
        )
    return (
        f"SELECT {key} AS key, {_BUCKET_EXPRESSION[bucket]} AS bucket_start, "  # noqa: S608
        f"COUNT(*) AS n FROM ({events}) "
        "GROUP BY key, bucket_start ORDER BY bucket_start, key LIMIT @limit"
    )


class EventStore:
    """:class:`EventReader` on google-cloud-bigquery (bqemulator when local)."""

    def __init__(
        self, connect: Callable[[], bigquery.Client], *, table_id: str, bounds: QueryBounds
    ) -> None:
        self._connect = connect
        self._table_id = table_id
        self._bounds = bounds
        self._client: bigquery.Client | None = None
        self._lock = threading.Lock()

    def _bq(self) -> bigquery.Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
                client = self._client
        return client

    def _run(self, sql: str, parameters: Sequence[Parameter]) -> bigquery.table.RowIterator:
        return query(
            self._bq(),
            sql,
            parameters=parameters,
            timeout=self._bounds.timeout,
            maximum_bytes_billed=self._bounds.maximum_bytes_billed,
        )

    def _page(
        self, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> bigquery.table.RowIterator:
        where, parameters = where_clause(filters, after=after, order=order)
        sql = page_sql(self._table_id, where, order)
        return self._run(sql, [*parameters, Parameter("limit", "INT64", limit)])

    def get_events(self, event_id: str, *, source: str | None, limit: int) -> list[EventRecord]:
        parameters = [Parameter("id", "STRING", event_id), Parameter("limit", "INT64", limit)]
        if source is not None:
            parameters.append(Parameter("source", "STRING", source))
        sql = by_id_sql(self._table_id, with_source=source is not None)
        return [EventRecord.from_row(row) for row in self._run(sql, parameters)]

    def list_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> list[EventRecord]:
        return [EventRecord.from_row(row) for row in self._page(filters, order, after, limit)]

    def count_events(
        self, *, filters: EventFilter, group_by: GroupBy, bucket: Bucket | None, limit: int
    ) -> list[CountRow]:
        where, parameters = where_clause(filters)
        sql = count_sql(self._table_id, where, group_by, bucket)
        rows = self._run(sql, [*parameters, Parameter("limit", "INT64", limit)])
        return [
            CountRow(key=row["key"], bucket_start=row.get("bucket_start"), count=int(row["n"]))
            for row in rows
        ]

    def export_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> Export:
        """One query for up to ``limit`` events, read page by page (BigQuery sizes the pages).

        BigQuery states the result's row count before the first page; when a backend does not
        (bqemulator may not), it is counted with a second query, so the API can refuse an export
        over its bound before sending a byte.
        """
        rows = self._page(filters, order, after, limit)
        total = rows.total_rows
        if total is None:
            where, parameters = where_clause(filters, after=after, order=order)
            counted = self._run(
                f"SELECT COUNT(*) AS n FROM ({deduplicated(self._table_id, where, 'id')})",  # noqa: S608
                parameters,
            )
            total = min(limit, int(next(iter(counted))["n"]))
        pages = ([EventRecord.from_row(row) for row in page] for page in rows.pages)
        return Export(total_rows=total, pages=pages)

    def check(self) -> None:
        """Raise unless the table exists and we may read its metadata (``bigquery.tables.get``)."""
        deadline = self._bounds.check_timeout
        self._bq().get_table(
            self._table_id, retry=DEFAULT_RETRY.with_timeout(deadline), timeout=deadline
        )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]
                self._client = None
