"""Events use cases: look up (cached), list (keyset pages), export (NDJSON), count, publish.

Validation the schema cannot express lives here (``since`` before ``until``, cursors bound to
their listing, the contract for posted events), as does the by-id cache. Every warehouse call
goes through the pool; nothing here blocks the event loop. :class:`EventsController` reads,
:class:`PublishController` publishes; each is built once per app with exactly what it uses.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pydantic_core

from bqingest.api.cache import EventCache, RenderedEvent
from bqingest.api.errors import EventNotFound, InvalidInput, PayloadTooLarge, RangeTooLarge
from bqingest.api.metrics import ApiMetrics
from bqingest.api.pagination import decode_cursor, encode_cursor, fingerprint
from bqingest.api.pool import WarehousePool
from bqingest.api.publisher import EventPublisher
from bqingest.api.serializers.events import (
    CountGroup,
    CountParams,
    CountResponse,
    ListParams,
    PublishAccepted,
    event_json,
    ndjson_lines,
    page_json,
)
from bqingest.contract import ContractError, Reason, parse_event_json
from bqingest.warehouse.events import EventReader
from bqingest.warehouse.records import EventFilter, Export, Position


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page ready to send, and the cursor of the next one (None on the last page)."""

    body: bytes
    next_cursor: str | None


@dataclass(frozen=True)
class ExportStream:
    """An NDJSON export: the number of rows (when the warehouse said) and the body's chunks."""

    total_rows: int | None
    chunks: AsyncIterator[bytes]


def _filters(params: ListParams | CountParams) -> EventFilter:
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


def _not_found(event_id: str) -> EventNotFound:
    return EventNotFound(f"no event with id {event_id!r}", field="id")


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much one read may return, and how clients may cache a by-id answer."""

    export_max_rows: int
    count_max_groups: int
    cache_control: str


class EventsController:
    """The read use cases, over the warehouse's :class:`EventReader` and the by-id cache."""

    def __init__(
        self, *, reader: EventReader, pool: WarehousePool, cache: EventCache, limits: ReadLimits
    ) -> None:
        self._reader = reader
        self._pool = pool
        self._cache = cache
        self._limits = limits
        self._lookups: dict[str, asyncio.Future[RenderedEvent | None]] = {}
        """By-id lookups in flight: concurrent misses for one id share one query."""

    @property
    def cache_control(self) -> str:
        return self._limits.cache_control

    # --- by id ---------------------------------------------------------------------------

    async def get_event(self, event_id: str) -> RenderedEvent:
        """The event as JSON, from the cache when it can; EventNotFound when absent."""
        cached = self._cache.get(event_id)
        if cached is not None:
            return cached
        if self._cache.is_missing(event_id):
            raise _not_found(event_id)
        pending = self._lookups.get(event_id)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(event_id))
            self._lookups[event_id] = pending
            pending.add_done_callback(lambda done: self._forget_lookup(event_id, done))
        rendered = await asyncio.shield(pending)
        if rendered is None:
            raise _not_found(event_id)
        return rendered

    async def _lookup(self, event_id: str) -> RenderedEvent | None:
        record = await self._pool.run("get_event", self._reader.get_event, event_id)
        if record is None:
            self._cache.put_missing(event_id)
            return None
        rendered = RenderedEvent.of(event_json(record))
        self._cache.put(event_id, rendered)
        return rendered

    def _forget_lookup(self, event_id: str, done: asyncio.Future[RenderedEvent | None]) -> None:
        self._lookups.pop(event_id, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter got it through shield() already

    # --- listing and export --------------------------------------------------------------

    async def list_events(self, params: ListParams) -> RenderedPage:
        """One page of the listing, and the cursor of the next page if there is one."""
        filters = _filters(params)
        listing = fingerprint(filters, params.order)
        after = decode_cursor(params.cursor, listing=listing) if params.cursor else None
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
            next_cursor = encode_cursor(Position(time=last.time, id=last.id), listing=listing)
        return RenderedPage(body=page_json(records, next_cursor), next_cursor=next_cursor)

    async def export_events(self, params: ListParams) -> ExportStream:
        """Every event of the range (after the cursor, if any) as NDJSON, up to the bound.

        A range holding more than ``api_export_max_rows`` events is refused with 422 before the
        first byte, so an export is never silently cut short.
        """
        filters = _filters(params)
        listing = fingerprint(filters, params.order)
        after = decode_cursor(params.cursor, listing=listing) if params.cursor else None
        bound = self._limits.export_max_rows
        export = await self._pool.run(
            "export_events",
            self._reader.export_events,
            filters=filters,
            order=params.order,
            after=after,
            limit=bound + 1,
        )
        if export.total_rows is not None and export.total_rows > bound:
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
            if sent > bound:  # only when the warehouse did not say how many rows up front
                raise self._too_many_rows(bound)
            if page:
                yield ndjson_lines(page)

    # --- counts --------------------------------------------------------------------------

    async def count_events(self, params: CountParams) -> CountResponse:
        """Counts per group (and bucket); 422 when there are more groups than the bound."""
        filters = _filters(params)
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
            since=params.since,
            until=params.until,
            groups=groups,
            total=sum(group.count for group in groups),
        )


@dataclass(frozen=True, slots=True)
class PublishLimits:
    """How much one POST may carry."""

    max_events: int
    max_message_bytes: int
    max_body_bytes: int


class PublishController:
    """Validates posted events with the contract and publishes them."""

    def __init__(
        self, *, publisher: EventPublisher, limits: PublishLimits, metrics: ApiMetrics
    ) -> None:
        self._publisher = publisher
        self._limits = limits
        self._metrics = metrics

    @property
    def max_body_bytes(self) -> int:
        return self._limits.max_body_bytes

    async def publish(self, body: bytes) -> PublishAccepted:
        """Validate one event or a batch with the contract, publish them, return their ids."""
        try:
            messages, ids = self._messages(body)
        except InvalidInput as exc:
            self._metrics.rejected_events.labels(exc.reason or "invalid").inc()
            raise
        await self._publisher.publish(messages)
        self._metrics.published_events.inc(len(messages))
        return PublishAccepted(ids=ids, count=len(ids))

    def _messages(self, body: bytes) -> tuple[list[bytes], list[str]]:
        if body.lstrip()[:1] != b"[":
            return self._message(body, None, prefix="")
        try:
            # NaN and infinities parse here so that the contract names the event and field.
            items = pydantic_core.from_json(body)
        except ValueError:
            raise InvalidInput.from_contract(_unparsable(body)) from None
        if not items:
            raise InvalidInput("the batch is empty", reason=Reason.INVALID_VALUE.value)
        if len(items) > self._limits.max_events:
            raise PayloadTooLarge(
                f"{len(items)} events: at most {self._limits.max_events} per request"
            )
        messages: list[bytes] = []
        ids: list[str] = []
        for index, item in enumerate(items):
            raw = pydantic_core.to_json(item)
            item_messages, item_ids = self._message(raw, item, prefix=f"[{index}]")
            messages += item_messages
            ids += item_ids
        return messages, ids

    def _message(self, raw: bytes, parsed: Any, *, prefix: str) -> tuple[list[bytes], list[str]]:
        """One validated event as the message to publish (with a generated id if it had none)."""
        try:
            event = parse_event_json(raw)
        except ContractError as exc:
            raise InvalidInput.from_contract(exc, prefix=prefix) from None
        event_id = event.id
        message = raw
        if event_id is None:
            event_id = str(uuid.uuid4())
            document = parsed if parsed is not None else pydantic_core.from_json(raw)
            message = pydantic_core.to_json({**document, "id": event_id})
        limit = self._limits.max_message_bytes
        if len(message) > limit:
            raise InvalidInput(
                f"the event is {len(message)} bytes, over the limit of {limit} bytes",
                field=prefix or None,
                reason=Reason.TOO_LARGE.value,
            )
        return [message], [event_id]


def _unparsable(body: bytes) -> ContractError:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as err:
        return ContractError(Reason.NOT_UTF8, f"body is not valid UTF-8 (byte {err.start})")
    return ContractError(Reason.NOT_JSON, "body is not valid JSON")
