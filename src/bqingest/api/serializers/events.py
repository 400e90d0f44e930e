"""Request and response schemas of the events endpoints, and the JSON form of an event.

An event is served as ``{"event": <CloudEvent>, "ingestion": <metadata>}``: ``event`` is the
structured-mode CloudEvent as the producer sent it (extension attributes at the top level, as the
CloudEvents JSON format puts them), so it can be posted or published again as is; ``ingestion``
says how it reached the warehouse. Keeping the two apart means no extension name can collide
with ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Final

import pydantic_core
from fastapi import Header, Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from bqingest.contract import ID_PATTERN
from bqingest.contract.events import EXAMPLE_EVENT, EXAMPLE_ID
from bqingest.warehouse.records import Bucket, EventRecord, GroupBy, Order

EXAMPLE_INGESTION: Final[JsonDict] = {
    "message_id": "12436746572385711",
    "publish_time": "2026-11-29T07:00:01.204Z",
    "ingested_at": "2026-11-29T07:00:02.950Z",
    "attributes": {"content-type": "application/cloudevents+json"},
}
EXAMPLE_RESPONSE: Final[JsonDict] = {"event": EXAMPLE_EVENT, "ingestion": EXAMPLE_INGESTION}

# /api/v1/events is the listing, so the original by-id path cannot reach an event whose id is
# "events" (the canonical path does): its documented pattern says so, as the canonical path's
# does for "count". The pattern validated is the contract's (pydantic's regex engine has no
# look-ahead); those two ids never reach these routes anyway.
EventIdPath = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        json_schema_extra={"pattern": r"^(?!events$)" + ID_PATTERN.removeprefix("^")},
        description="The event's CloudEvents id: 1-128 letters, digits and ._~:- . An event "
        "whose id is `events` is read at `/api/v1/events/events`.",
        openapi_examples={"order": {"summary": "An order event", "value": EXAMPLE_ID}},
    ),
]

# Under /api/v1/events/ the segment "count" is the counts endpoint, so the canonical by-id path
# cannot reach an event with that id (/api/v1/count does).
CanonicalEventIdPath = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        json_schema_extra={"pattern": r"^(?!count$)" + ID_PATTERN.removeprefix("^")},
        description="The event's CloudEvents id: 1-128 letters, digits and ._~:- . An event "
        "whose id is `count` is read at `/api/v1/count`.",
        openapi_examples={"order": {"summary": "An order event", "value": EXAMPLE_ID}},
    ),
]


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # The type the error handler maps to the contract's invalid_time.
        raise PydanticCustomError(
            "datetime_object_invalid",
            "{value} is outside 0001-01-01..9999-12-31 in UTC",
            {"value": value.isoformat()},
        ) from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A time filter: RFC 3339 with an offset, and an instant that exists in UTC."""

_FILTER_LENGTH: Final = 1024

IfNoneMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="ETag of a copy the client holds: 304 if it still matches.",
    ),
]

SourceQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=_FILTER_LENGTH,
        description="The event's CloudEvents source; needed when several sources used the id.",
        examples=["//shop.example.com/orders"],
    ),
]
NDJSON: Final = "application/x-ndjson"


class CloudEventOut(BaseModel):
    """A stored event as a structured-mode CloudEvent; absent attributes are left out."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [EXAMPLE_EVENT]})

    specversion: str
    id: str
    source: str
    type: str
    time: datetime
    subject: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    data: Any = None


class IngestionOut(BaseModel):
    """How the event reached the warehouse (the delivery that won de-duplication)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_INGESTION]})

    message_id: str = Field(description="Pub/Sub message id.")
    publish_time: datetime = Field(description="When Pub/Sub accepted the message.")
    ingested_at: datetime = Field(description="When the pipeline wrote the row.")
    attributes: dict[str, str] | None = Field(None, description="Pub/Sub attributes.")


class EventOut(BaseModel):
    """One event and its ingestion metadata."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RESPONSE]})

    event: CloudEventOut
    ingestion: IngestionOut


class EventPage(BaseModel):
    """One page of events; follow ``next_cursor`` (or the ``Link`` header) for the next."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [EXAMPLE_RESPONSE], "next_cursor": "eyJ0IjoxNzk2MDI..."}]
        }
    )

    items: list[EventOut]
    next_cursor: str | None = Field(description="Opaque; absent on the last page.")


class ListParams(BaseModel):
    """Filters, order and paging of ``GET /api/v1/events``."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = Field(
        None,
        max_length=_FILTER_LENGTH,
        description="Only events of this CloudEvents type.",
        examples=["com.example.order.created"],
    )
    source: str | None = Field(
        None,
        max_length=_FILTER_LENGTH,
        description="Only events from this source.",
        examples=["//shop.example.com/orders"],
    )
    subject: str | None = Field(
        None, max_length=_FILTER_LENGTH, description="Only events with this subject."
    )
    since: UtcTime | None = Field(
        None,
        description="Events at or after this time (RFC 3339 with an offset).",
        examples=["2026-11-29T00:00:00Z"],
    )
    until: UtcTime | None = Field(
        None,
        description="Events strictly before this time (RFC 3339 with an offset).",
        examples=["2026-11-30T00:00:00Z"],
    )
    order: Order = Field("asc", description="By event time (then id): asc or desc.")
    limit: int = Field(
        100, ge=1, le=1000, description="Events per page (JSON only; NDJSON streams the range)."
    )
    cursor: str | None = Field(
        None,
        max_length=512,
        description="From next_cursor of the previous page, with the same filters and order.",
    )

    data_filters: dict[str, str] = Field(
        default_factory=dict,
        description="Not a parameter itself: each filter is one `data.<field>=<value>` "
        "parameter, on a scalar property that the schema of `type` declares "
        "(`GET /api/v1/types` lists them; an undeclared field is a 422 listing the declared).",
    )

    @model_validator(mode="before")
    @classmethod
    def _data_filters(cls, data: Any) -> Any:
        """``data.<field>`` parameters gathered into :attr:`data_filters` (the controller
        checks them against the type's schema); any other unknown parameter stays refused."""
        if isinstance(data, Mapping):
            rest = {k: v for k, v in data.items() if not str(k).startswith("data.")}
            rest["data_filters"] = {
                str(k): str(v) for k, v in data.items() if str(k).startswith("data.")
            }
            return rest
        return data


class CountParams(BaseModel):
    """Grouping and range of ``GET /api/v1/events/count``."""

    model_config = ConfigDict(extra="forbid")

    group_by: GroupBy = Field("type", description="Count per event type or per source.")
    bucket: Bucket | None = Field(None, description="Also count per hour or per day.")
    type: str | None = Field(None, max_length=_FILTER_LENGTH)
    source: str | None = Field(None, max_length=_FILTER_LENGTH)
    subject: str | None = Field(None, max_length=_FILTER_LENGTH)
    since: UtcTime | None = Field(
        None, description="At or after (RFC 3339).", examples=["2026-11-29T00:00:00Z"]
    )
    until: UtcTime | None = Field(
        None, description="Strictly before (RFC 3339).", examples=["2026-11-30T00:00:00Z"]
    )


class CountGroup(BaseModel):
    """The number of events of one group (in one bucket, when bucketed)."""

    key: str = Field(description="The type or source.")
    bucket_start: datetime | None = Field(None, description="Start of the hour or day.")
    count: int


class CountResponse(BaseModel):
    """Event counts per group: the volume check of the monitoring plan."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_by": "type",
                    "bucket": "hour",
                    "since": "2026-11-29T00:00:00Z",
                    "until": "2026-11-30T00:00:00Z",
                    "groups": [
                        {
                            "key": "com.example.order.created",
                            "bucket_start": "2026-11-29T07:00:00Z",
                            "count": 1200,
                        }
                    ],
                    "total": 1200,
                }
            ]
        }
    )

    group_by: GroupBy
    bucket: Bucket | None
    since: datetime | None
    until: datetime | None
    groups: list[CountGroup]
    total: int = Field(description="Sum of the groups' counts.")


class PublishAccepted(BaseModel):
    """The events were published; ids are the CloudEvents ids, generated where absent."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ids": [EXAMPLE_ID], "count": 1}]})

    ids: list[str]
    count: int


def event_document(record: EventRecord) -> dict[str, Any]:
    """The JSON-ready form of a stored event (see the module docstring)."""
    event: dict[str, Any] = {
        "specversion": record.specversion,
        "id": record.id,
        "source": record.source,
        "type": record.type,
        "time": record.time,
    }
    for name in ("subject", "datacontenttype", "dataschema"):
        value = getattr(record, name)
        if value is not None:
            event[name] = value
    if record.extensions:
        for name, value in record.extensions.items():
            event.setdefault(name, value)
    if record.data is not None:
        event["data"] = record.data
    return {
        "event": event,
        "ingestion": {
            "message_id": record.message_id,
            "publish_time": record.publish_time,
            "ingested_at": record.ingested_at,
            "attributes": record.attributes,
        },
    }


def event_json(record: EventRecord) -> bytes:
    """One event as compact JSON bytes."""
    return pydantic_core.to_json(event_document(record))


def page_json(records: list[EventRecord], next_cursor: str | None) -> bytes:
    """One page as compact JSON bytes (the :class:`EventPage` schema)."""
    return pydantic_core.to_json(
        {"items": [event_document(r) for r in records], "next_cursor": next_cursor}
    )


def ndjson_lines(records: list[EventRecord]) -> bytes:
    """Events as newline-delimited JSON, one line each."""
    return b"".join(event_json(record) + b"\n" for record in records)
