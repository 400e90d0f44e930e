"""Events read use cases: look up (cached), list (keyset pages), export (NDJSON), count.

Validation the schema cannot express lives here (``since`` before ``until``, cursors bound to
their listing), as does the by-id cache. Every warehouse call goes through the pool; nothing here
blocks the event loop. :class:`EventsController` is built once per app with exactly what it uses;
publishing is :mod:`bqingest.api.controllers.publishing`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from bqingest.api.cache import EventCache, RenderedEvent
from bqingest.api.errors import (
    AmbiguousEventId,
    EventNotFound,
    InvalidInput,
    RangeTooLarge,
)
from bqingest.api.pagination import decode_cursor, encode_cursor, fingerprint
from bqingest.api.pool import WarehousePool
from bqingest.api.serializers.events import (
    CountGroup,
    CountParams,
    CountResponse,
    ListParams,
    event_json,
    ndjson_lines,
    page_json,
)
from bqingest.clock import utc_now
from bqingest.contract import Reason
from bqingest.warehouse.events import EventReader
from bqingest.warehouse.records import DataFilter, EventFilter, Export, Position, time_before


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page ready to send, and the cursor of the next one (None on the last page)."""

    body: bytes
    next_cursor: str | None


@dataclass(frozen=True)
class ExportStream:
    """An NDJSON export: its number of lines, known before the first byte, and its chunks."""

    total_rows: int
    chunks: AsyncIterator[bytes]


def _asked(params: ListParams | CountParams) -> EventFilter:
    """The filters as the request states them (what a cursor is bound to)."""
    if params.since is not None and params.until is not None and params.since >= params.until:
        raise InvalidInput(
            "until must be after since", field="until", reason=Reason.INVALID_VALUE.value
        )
    return EventFilter(
        type=params.type,
        source=params.source,
        subject=params.subject,
        since=params.since,
        until=params.until,
    )


MAX_SOURCES: Final = 10
"""Sources named when an id alone matches several events (409)."""


def _not_found(event_id: str, source: str | None) -> EventNotFound:
    if source is None:
        return EventNotFound(f"no event with id {event_id!r}", field="id")
    return EventNotFound(f"no event with id {event_id!r} from source {source!r}", field="id")


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """An id alone matched events of several sources (at most :data:`MAX_SOURCES` + 1 listed)."""

    sources: tuple[str, ...]


def _ambiguous(event_id: str, found: Ambiguous) -> AmbiguousEventId:
    listed = found.sources[:MAX_SOURCES]
    more = " (and more)" if len(found.sources) > MAX_SOURCES else ""
    return AmbiguousEventId(
        f"{len(listed)}{more} sources have an event with id {event_id!r}: add ?source= to "
        "choose one (an id is unique per source)",
        field="source",
        choices=list(listed),
    )


def cache_key(event_id: str, source: str | None) -> str:
    """By-id cache key: the id alone, or the id and the source (ids hold no NUL)."""
    return event_id if source is None else f"{event_id}\x00{source}"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much one read may return, the window a read covers when it names no ``since``, and
    how clients may cache a by-id answer."""

    export_max_rows: int
    count_max_groups: int
    default_window: timedelta
    cache_control: str


DataFilters = Callable[[str | None, Mapping[str, str]], tuple[DataFilter, ...]]
"""Resolves ``data.<field>`` query parameters for a type (``TypesController.data_filters``)."""


class EventsController:
    """The read use cases, over the warehouse's :class:`EventReader` and the by-id cache."""

    def __init__(
        self,
        *,
        reader: EventReader,
        pool: WarehousePool,
        cache: EventCache,
        limits: ReadLimits,
        clock: Callable[[], datetime] = utc_now,
        data_filters: DataFilters | None = None,
    ) -> None:
        self._reader = reader
        self._pool = pool
        self._cache = cache
        self._limits = limits
        self._clock = clock
        self._data_filters = data_filters
        self._lookups: dict[str, asyncio.Future[RenderedEvent | Ambiguous | None]] = {}
        """By-id lookups in flight: concurrent misses for one key share one query."""

    @property
    def cache_control(self) -> str:
        return self._limits.cache_control

    # --- by id ---------------------------------------------------------------------------

    async def get_event(self, event_id: str, source: str | None = None) -> RenderedEvent:
        """The event as JSON, from the cache when it can.

        Raises EventNotFound when absent, AmbiguousEventId when the id alone matches events of
        several sources (CloudEvents ids are unique per source only).
        """
        key = cache_key(event_id, source)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self._cache.is_missing(key):
            raise _not_found(event_id, source)
        pending = self._lookups.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(key, event_id, source))
            self._lookups[key] = pending
            pending.add_done_callback(lambda done: self._forget_lookup(key, done))
        found = await asyncio.shield(pending)
        if found is None:
            raise _not_found(event_id, source)
        if isinstance(found, Ambiguous):
            raise _ambiguous(event_id, found)
        return found

    async def _lookup(
        self, key: str, event_id: str, source: str | None
    ) -> RenderedEvent | Ambiguous | None:
        records = await self._pool.run(
            "get_event", self._reader.get_events, event_id, source=source, limit=MAX_SOURCES + 1
        )
        if not records:
            self._cache.put_missing(key)
            return None
        if len(records) > 1:
            return Ambiguous(tuple(record.source for record in records))
        rendered = RenderedEvent.of(event_json(records[0]))
        self._cache.put(key, rendered)
        return rendered

    def _forget_lookup(
        self, key: str, done: asyncio.Future[RenderedEvent | Ambiguous | None]
    ) -> None:
        self._lookups.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter got it through shield() already

    # --- listing and export --------------------------------------------------------------

    def _window(self, asked: EventFilter, carried_since: datetime | None) -> EventFilter:
        """``asked``, with ``since`` set when the request leaves it out: carried by the cursor on
        later pages, else the default window before ``until`` (or now). A read always has a
        window, so what it scans follows the window, not the table."""
        if asked.since is not None:
            return asked
        since = carried_since or time_before(
            asked.until or self._clock(), self._limits.default_window
        )
        if asked.until is not None and since >= asked.until:
            raise InvalidInput(
                "until must be after since", field="until", reason=Reason.INVALID_VALUE.value
            )
        return replace(asked, since=since)

    def _start(self, params: ListParams) -> tuple[EventFilter, str, Position | None]:
        """The effective filters, the listing's fingerprint, and where the page starts."""
        asked = _asked(params)
        if params.data_filters:  # data.<field>=value, checked against the type's schema
            if self._data_filters is None:
                raise InvalidInput("data filters need a schema registry", field="data")
            asked = replace(asked, data=self._data_filters(params.type, params.data_filters))
        listing = fingerprint(asked, params.order)
        after, carried = (
            decode_cursor(params.cursor, listing=listing) if params.cursor else (None, None)
        )
        return self._window(asked, carried), listing, after

    async def list_events(self, params: ListParams) -> RenderedPage:
        """One page of the listing, and the cursor of the next page if there is one."""
        filters, listing, after = self._start(params)
        records = await self._pool.run(
            "list_events",
            self._reader.list_events,
            filters=filters,
            order=params.order,
            after=after,
            limit=params.limit + 1,  # one more tells whether another page exists
        )
        next_cursor = None
        if len(records) > params.limit:
            records = records[: params.limit]
            last = records[-1]
            next_cursor = encode_cursor(
                Position(time=last.time, source=last.source, id=last.id),
                listing=listing,
                since=filters.since if params.since is None else None,
            )
        return RenderedPage(body=page_json(records, next_cursor), next_cursor=next_cursor)

    async def export_events(self, params: ListParams) -> ExportStream:
        """Every event of the range (after the cursor, if any) as NDJSON, up to the bound.

        The number of rows is known before the first byte: a range holding more than
        ``api_export_max_rows`` events is refused with 422 (how to narrow it), never cut short.
        """
        filters, _listing, after = self._start(params)
        bound = self._limits.export_max_rows
        export = await self._pool.run(
            "export_events",
            self._reader.export_events,
            filters=filters,
            order=params.order,
            after=after,
            limit=bound + 1,
        )
        if export.total_rows is None:
            raise RuntimeError("the warehouse reader did not count the export's rows")
        if export.total_rows > bound:
            raise self._too_many_rows(bound)
        return ExportStream(total_rows=export.total_rows, chunks=self._ndjson(export, bound))

    @staticmethod
    def _too_many_rows(bound: int) -> RangeTooLarge:
        return RangeTooLarge(
            f"more than {bound} events match: narrow since/until, or page with the JSON form",
            field="until",
            reason=Reason.TOO_LARGE.value,
        )

    async def _ndjson(self, export: Export, bound: int) -> AsyncIterator[bytes]:
        sent = 0
        while True:
            page = await self._pool.run("export_page", next, export.pages, None)
            if page is None:
                return
            sent += len(page)
            if sent > bound:  # never with a reader that counts right; abort, never a cut 200
                raise RuntimeError(f"the export held more than the {bound} rows it counted")
            if page:
                yield ndjson_lines(page)

    # --- counts --------------------------------------------------------------------------

    async def count_events(self, params: CountParams) -> CountResponse:
        """Counts per group (and bucket); 422 when there are more groups than the bound."""
        filters = self._window(_asked(params), None)
        bound = self._limits.count_max_groups
        rows = await self._pool.run(
            "count_events",
            self._reader.count_events,
            filters=filters,
            group_by=params.group_by,
            bucket=params.bucket,
            limit=bound + 1,
        )
        if len(rows) > bound:
            raise RangeTooLarge(
                f"more than {bound} groups: narrow since/until or drop the bucket",
                field="bucket",
                reason=Reason.TOO_LARGE.value,
            )
        groups = [CountGroup(key=r.key, bucket_start=r.bucket_start, count=r.count) for r in rows]
        return CountResponse(
            group_by=params.group_by,
            bucket=params.bucket,
            since=filters.since,
            until=filters.until,
            groups=groups,
            total=sum(group.count for group in groups),
        )
