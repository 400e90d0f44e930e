"""Reading events: the API's queries, over the de-duplicated view.

One method per query. Values always travel as query parameters; the SQL text is assembled only
from constants below and the view id, which comes from validated settings (letters, digits,
underscores, hyphens). Every query goes through :func:`bqingest.warehouse.query.query`, so a
failed query raises on BigQuery and on the emulator alike.

Keyset pagination orders by ``(time, id)``, a total order because ids are unique in the view; a
page starts strictly after the last ``(time, id)`` of the previous one, so no row is repeated or
skipped however many rows share a timestamp.

:class:`EventStore` implements :class:`EventReader`, the protocol the API depends on; tests give
the API an in-memory fake of the same protocol. Methods block (google-cloud-bigquery is
synchronous): the API calls them from its thread pool. The client is made on first use, so an
app starts without credentials or network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from google.cloud import bigquery

from bqingest.contract.schema import EVENTS
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
    "asc": "(time > @after_time OR (time = @after_time AND id > @after_id))",
    "desc": "(time < @after_time OR (time = @after_time AND id < @after_id))",
}
_ORDER_BY: Final[Mapping[Order, str]] = {"asc": "time ASC, id ASC", "desc": "time DESC, id DESC"}
_GROUP_COLUMN: Final[Mapping[GroupBy, str]] = {"type": "type", "source": "source"}
_BUCKET_EXPRESSION: Final[Mapping[Bucket, str]] = {
    "hour": "TIMESTAMP_TRUNC(time, HOUR)",
    "day": "TIMESTAMP_TRUNC(time, DAY)",
}

Parameter = bigquery.ScalarQueryParameter


class EventReader(Protocol):
    """Reads of the de-duplicated events. Methods block; they raise on failure."""

    def get_event(self, event_id: str) -> EventRecord | None: ...

    def list_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> list[EventRecord]: ...

    def count_events(
        self, *, filters: EventFilter, group_by: GroupBy, bucket: Bucket | None, limit: int
    ) -> list[CountRow]: ...

    def export_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> Export: ...

    def check(self) -> None:
        """Raise unless the events can be read (a metadata call: no query, no cost)."""


@dataclass(frozen=True, slots=True)
class QueryBounds:
    """Bounds every query carries: a deadline (seconds) and the bytes BigQuery may bill."""

    timeout: float
    maximum_bytes_billed: int
    check_timeout: float


def _where(
    filters: EventFilter, *, after: Position | None = None, order: Order = "asc"
) -> tuple[str, list[Parameter]]:
    clauses: list[str] = []
    parameters: list[Parameter] = []
    for name, clause in _FILTER_CLAUSES.items():
        value = getattr(filters, name)
        if value is not None:
            clauses.append(clause)
            parameters.append(Parameter(name, "STRING", value))
    if filters.since is not None:
        clauses.append("time >= @since")
        parameters.append(Parameter("since", "TIMESTAMP", filters.since))
    if filters.until is not None:
        clauses.append("time < @until")
        parameters.append(Parameter("until", "TIMESTAMP", filters.until))
    if after is not None:
        clauses.append(_AFTER_CLAUSE[order])
        parameters.append(Parameter("after_time", "TIMESTAMP", after.time))
        parameters.append(Parameter("after_id", "STRING", after.id))
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), parameters


class EventStore:
    """:class:`EventReader` on google-cloud-bigquery (bqemulator when local)."""

    def __init__(
        self, connect: Callable[[], bigquery.Client], *, view_id: str, bounds: QueryBounds
    ) -> None:
        self._connect = connect
        self._view_id = view_id
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
        """Rows matching ``filters`` in keyset order, after ``after``, at most ``limit``."""
        where, parameters = _where(filters, after=after, order=order)
        sql = (
            f"SELECT {_COLUMNS} FROM `{self._view_id}` {where} "  # noqa: S608 (module docstring)
            f"ORDER BY {_ORDER_BY[order]} LIMIT @limit"
        )
        return self._run(sql, [*parameters, Parameter("limit", "INT64", limit)])

    def get_event(self, event_id: str) -> EventRecord | None:
        """The event with this id, or None."""
        sql = f"SELECT {_COLUMNS} FROM `{self._view_id}` WHERE id = @id LIMIT 1"  # noqa: S608
        for row in self._run(sql, [Parameter("id", "STRING", event_id)]):
            return EventRecord.from_row(row)
        return None

    def list_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> list[EventRecord]:
        """Up to ``limit`` events matching ``filters``, in ``order``, strictly after ``after``."""
        return [EventRecord.from_row(row) for row in self._page(filters, order, after, limit)]

    def count_events(
        self, *, filters: EventFilter, group_by: GroupBy, bucket: Bucket | None, limit: int
    ) -> list[CountRow]:
        """Event counts per ``group_by`` value (and per time bucket), at most ``limit`` groups."""
        where, parameters = _where(filters)
        key = _GROUP_COLUMN[group_by]
        if bucket is None:
            sql = (
                f"SELECT {key} AS key, COUNT(*) AS n FROM `{self._view_id}` {where} "  # noqa: S608
                "GROUP BY key ORDER BY key LIMIT @limit"
            )
        else:
            sql = (
                f"SELECT {key} AS key, {_BUCKET_EXPRESSION[bucket]} AS bucket_start, "  # noqa: S608
                f"COUNT(*) AS n FROM `{self._view_id}` {where} "
                "GROUP BY key, bucket_start ORDER BY bucket_start, key LIMIT @limit"
            )
        rows = self._run(sql, [*parameters, Parameter("limit", "INT64", limit)])
        return [
            CountRow(key=row["key"], bucket_start=row.get("bucket_start"), count=int(row["n"]))
            for row in rows
        ]

    def export_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> Export:
        """One query for up to ``limit`` events, read page by page (BigQuery sizes the pages)."""
        rows = self._page(filters, order, after, limit)
        pages = ([EventRecord.from_row(row) for row in page] for page in rows.pages)
        return Export(total_rows=rows.total_rows, pages=pages)

    def check(self) -> None:
        """Raise unless the view exists and we may read its metadata (``bigquery.tables.get``)."""
        self._bq().get_table(self._view_id, timeout=self._bounds.check_timeout)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]
                self._client = None
