"""Events in the warehouse and on the topic: the only SQL (and the only publishing) of the API.

One keyword-only function per query. Values always travel as query parameters; the SQL text is
assembled only from constants below and the view id, which comes from validated Settings
(letters, digits, underscores, hyphens). Every query goes through :func:`bqingest.warehouse.query`,
so a failed query raises on BigQuery and on the emulator alike. Reads use the ``events_dedup``
view: one row per event id.

Keyset pagination orders by ``(time, id)``, a total order because ids are unique in the view; a
page starts strictly after the last ``(time, id)`` of the previous one, so no row is repeated or
skipped however many rows share a timestamp.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import google.cloud.pubsub_v1 as pubsub_v1
from google.cloud import bigquery

from bqingest import warehouse
from bqingest.contract.schema import EVENTS

Order = Literal["asc", "desc"]
GroupBy = Literal["type", "source"]
Bucket = Literal["hour", "day"]

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


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """Bounds every query carries: a deadline (seconds) and the bytes BigQuery may bill."""

    timeout: float
    maximum_bytes_billed: int


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One row of the de-duplicated view."""

    id: str
    source: str
    type: str
    specversion: str
    subject: str | None
    time: datetime
    datacontenttype: str | None
    dataschema: str | None
    data: Any
    extensions: dict[str, Any] | None
    attributes: dict[str, str] | None
    message_id: str
    publish_time: datetime
    ingested_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EventRecord:
        return cls(**{name: row[name] for name in EVENTS.column_names})


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a list, count or export covers; ``since`` inclusive, ``until`` exclusive."""

    type: str | None = None
    source: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """A place in the ``(time, id)`` order: pages start strictly after it."""

    time: datetime
    id: str


@dataclass(frozen=True, slots=True)
class CountRow:
    """Events of one group (and one time bucket, when bucketed)."""

    key: str
    bucket_start: datetime | None
    count: int


@dataclass(frozen=True)
class Export:
    """A running export: how many rows it holds (when known) and its rows, page by page.

    Each ``next(pages)`` may call BigQuery: call it from a worker thread.
    """

    total_rows: int | None
    pages: Iterator[list[EventRecord]]


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


def _run(
    client: bigquery.Client, sql: str, parameters: Sequence[Parameter], options: QueryOptions
) -> bigquery.table.RowIterator:
    return warehouse.query(
        client,
        sql,
        parameters=parameters,
        timeout=options.timeout,
        maximum_bytes_billed=options.maximum_bytes_billed,
    )


def _run_events_page(
    client: bigquery.Client,
    *,
    view_id: str,
    filters: EventFilter,
    order: Order,
    after: Position | None,
    limit: int,
    options: QueryOptions,
) -> bigquery.table.RowIterator:
    """Rows matching ``filters`` in keyset order, strictly after ``after``, at most ``limit``."""
    where, parameters = _where(filters, after=after, order=order)
    sql = (
        f"SELECT {_COLUMNS} FROM `{view_id}` {where} "  # noqa: S608 (see module docstring)
        f"ORDER BY {_ORDER_BY[order]} LIMIT @limit"
    )
    return _run(client, sql, [*parameters, Parameter("limit", "INT64", limit)], options)


def select_event(
    client: bigquery.Client, *, view_id: str, event_id: str, options: QueryOptions
) -> EventRecord | None:
    """The event with this id, or None."""
    sql = f"SELECT {_COLUMNS} FROM `{view_id}` WHERE id = @id LIMIT 1"  # noqa: S608 (see module)
    rows = _run(client, sql, [Parameter("id", "STRING", event_id)], options)
    for row in rows:
        return EventRecord.from_row(row)
    return None


def select_events(
    client: bigquery.Client,
    *,
    view_id: str,
    filters: EventFilter,
    order: Order,
    after: Position | None,
    limit: int,
    options: QueryOptions,
) -> list[EventRecord]:
    """Up to ``limit`` events matching ``filters``, in ``order``, strictly after ``after``."""
    rows = _run_events_page(
        client,
        view_id=view_id,
        filters=filters,
        order=order,
        after=after,
        limit=limit,
        options=options,
    )
    return [EventRecord.from_row(row) for row in rows]


def count_events(
    client: bigquery.Client,
    *,
    view_id: str,
    filters: EventFilter,
    group_by: GroupBy,
    bucket: Bucket | None,
    limit: int,
    options: QueryOptions,
) -> list[CountRow]:
    """Event counts per ``group_by`` value (and per time bucket), at most ``limit`` groups."""
    where, parameters = _where(filters)
    key = _GROUP_COLUMN[group_by]
    if bucket is None:
        sql = (
            f"SELECT {key} AS key, COUNT(*) AS n FROM `{view_id}` {where} "  # noqa: S608
            "GROUP BY key ORDER BY key LIMIT @limit"
        )
    else:
        sql = (
            f"SELECT {key} AS key, {_BUCKET_EXPRESSION[bucket]} AS bucket_start, "  # noqa: S608
            f"COUNT(*) AS n FROM `{view_id}` {where} "
            "GROUP BY key, bucket_start ORDER BY bucket_start, key LIMIT @limit"
        )
    rows = _run(client, sql, [*parameters, Parameter("limit", "INT64", limit)], options)
    return [
        CountRow(key=row["key"], bucket_start=row.get("bucket_start"), count=int(row["n"]))
        for row in rows
    ]


def export_events(
    client: bigquery.Client,
    *,
    view_id: str,
    filters: EventFilter,
    order: Order,
    after: Position | None,
    limit: int,
    options: QueryOptions,
) -> Export:
    """One query for up to ``limit`` events, read page by page (BigQuery sizes the pages)."""
    rows = _run_events_page(
        client,
        view_id=view_id,
        filters=filters,
        order=order,
        after=after,
        limit=limit,
        options=options,
    )
    pages = ([EventRecord.from_row(row) for row in page] for page in rows.pages)
    return Export(total_rows=rows.total_rows, pages=pages)


def publish_events(
    publisher: pubsub_v1.PublisherClient,
    *,
    topic_path: str,
    messages: Sequence[bytes],
    attributes: Mapping[str, str],
) -> list[pubsub_v1.publisher.futures.Future]:
    """Hand each message to the publisher (which batches them); one future per message."""
    return [publisher.publish(topic_path, message, **attributes) for message in messages]
