"""What the warehouse's queries take and return: plain, typed records, no SQL and no client.

The API's serializers and cursors, the operations commands and the queries all share these, so
none of them imports another to learn a row's shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from google.cloud.bigquery.table import Row

from bqingest.contract.schema import EVENTS

Order = Literal["asc", "desc"]
GroupBy = Literal["type", "source"]
Bucket = Literal["hour", "day"]

TIMESTAMP_MIN: Final = datetime.min.replace(tzinfo=UTC)
"""The first instant BigQuery's TIMESTAMP (and Python's datetime) can hold."""


def time_before(moment: datetime, span: timedelta) -> datetime:
    """``moment - span``, or :data:`TIMESTAMP_MIN` where that would fall before it (a window's
    start before a time in year 1 would otherwise overflow)."""
    return moment - span if moment - TIMESTAMP_MIN > span else TIMESTAMP_MIN


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as readers see it (one row per event)."""

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
class DataFilter:
    """``data.<name> = value`` for a scalar property the type's schema declares, read as the
    typed view's column is (``type`` is its BigQuery type: STRING, INT64, FLOAT64, BOOL,
    TIMESTAMP, DATE)."""

    name: str
    type: str
    value: Any


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a list, count or export covers; ``since`` inclusive, ``until`` exclusive."""

    type: str | None = None
    source: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    data: tuple[DataFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class Position:
    """A place in the ``(time, source, id)`` order: pages start strictly after it."""

    time: datetime
    source: str
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


@dataclass(frozen=True)
class DeadLetter:
    """One rejected message (its first rejection when it was rejected more than once)."""

    dead_letter_id: str
    reason: str
    stage: str
    error_message: str
    error_field: str | None
    message_id: str | None
    publish_time: datetime | None
    failed_at: datetime
    replayed_at: datetime | None
    attributes: dict[str, str]
    raw_payload: bytes
    payload_bytes: int
    payload_sha256: str | None
    payload_truncated: bool
    payload_uri: str | None

    @classmethod
    def from_row(cls, row: Row) -> DeadLetter:
        attributes = row["attributes"]
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        return cls(
            dead_letter_id=row["dead_letter_id"],
            reason=row["reason"],
            stage=row["stage"],
            error_message=row["error_message"],
            error_field=row["error_field"],
            message_id=row["message_id"],
            publish_time=row["publish_time"],
            failed_at=row["failed_at"],
            replayed_at=row["replayed_at"],
            attributes={str(k): str(v) for k, v in (attributes or {}).items()},
            raw_payload=bytes(row["raw_payload"]),
            # Rows written before these columns existed hold the whole body.
            payload_bytes=int(row.get("payload_bytes") or len(row["raw_payload"])),
            payload_sha256=row.get("payload_sha256"),
            payload_truncated=bool(row.get("payload_truncated")),
            payload_uri=row.get("payload_uri"),
        )


@dataclass(frozen=True)
class Totals:
    """What the warehouse holds: event rows and distinct ids, dead letters by reason."""

    events_rows: int = 0
    event_ids: int = 0
    dead_letters: Mapping[str, int] = field(default_factory=dict)
