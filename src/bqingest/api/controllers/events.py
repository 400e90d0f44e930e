"""Events use cases: look up (cached), list (keyset pages), export (NDJSON), count, publish.

Validation the schema cannot express lives here (``since`` before ``until``, cursors bound to
their listing, the contract for posted events), as does the by-id cache. Every warehouse call
goes through the runtime's pool; nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pydantic_core

from bqingest.api.cache import RenderedEvent
from bqingest.api.errors import InvalidInput, NotFound, PayloadTooLarge, RangeTooLarge
from bqingest.api.models.events import EventFilter, Export, Position
from bqingest.api.pagination import decode_cursor, encode_cursor, fingerprint
from bqingest.api.runtime import ApiRuntime
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
from bqingest.api.warehouse import EventPublisher, Warehouse
from bqingest.contract import ContractError, Reason, parse_event_json


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


def _not_found(event_id: str) -> NotFound:
    return NotFound(f"no event with id {event_id!r}", field="id")


class EventsController:
    """The events use cases for one request, over the app's runtime."""

    def __init__(self, *, runtime: ApiRuntime, warehouse: Warehouse) -> None:
        self._runtime = runtime
        self._warehouse = warehouse

    @property
    def cache_control(self) -> str:
        return self._runtime.cache_control

    # --- by id ---------------------------------------------------------------------------

    async def get_event(self, event_id: str) -> RenderedEvent:
        """The event as JSON, from the cache when it can; NotFound when absent."""
        runtime = self._runtime
        cached = runtime.events_cache.get(event_id)
        if cached is not None:
            return cached
        if runtime.missing_cache.get(event_id):
            raise _not_found(event_id)
        pending = runtime.lookups.get(event_id)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(event_id))
            runtime.lookups[event_id] = pending
            pending.add_done_callback(lambda done: self._forget_lookup(event_id, done))
        rendered = await asyncio.shield(pending)
        if rendered is None:
            raise _not_found(event_id)
        return rendered

    async def _lookup(self, event_id: str) -> RenderedEvent | None:
        runtime = self._runtime
        record = await runtime.pool.run("get_event", self._warehouse.get_event, event_id)
        if record is None:
            runtime.missing_cache.put(event_id, True)
            return None
        rendered = RenderedEvent.of(event_json(record))
        runtime.events_cache.put(event_id, rendered)
        return rendered

    def _forget_lookup(self, event_id: str, done: asyncio.Future[RenderedEvent | None]) -> None:
        self._runtime.lookups.pop(event_id, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter got it through shield() already

    # --- listing and export --------------------------------------------------------------

    async def list_events(self, params: ListParams) -> RenderedPage:
        """One page of the listing, and the cursor of the next page if there is one."""
        filters = _filters(params)
        listing = fingerprint(filters, params.order)
        after = decode_cursor(params.cursor, listing=listing) if params.cursor else None
        records = await self._runtime.pool.run(
            "list_events",
            self._warehouse.list_events,
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
        bound = self._runtime.settings.api_export_max_rows
        export = await self._runtime.pool.run(
            "export_events",
            self._warehouse.export_events,
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
            page = await self._runtime.pool.run("export_page", next, export.pages, None)
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
        bound = self._runtime.settings.api_count_max_groups
        rows = await self._runtime.pool.run(
            "count_events",
            self._warehouse.count_events,
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

    # --- publishing ----------------------------------------------------------------------

    async def publish(self, body: bytes, *, publisher: EventPublisher) -> PublishAccepted:
        """Validate one event or a batch with the contract, publish them, return their ids."""
        try:
            messages, ids = self._messages(body)
        except InvalidInput as exc:
            self._runtime.metrics.rejected_events.labels(exc.reason or "invalid").inc()
            raise
        await publisher.publish(messages)
        self._runtime.metrics.published_events.inc(len(messages))
        return PublishAccepted(ids=ids, count=len(ids))

    def _messages(self, body: bytes) -> tuple[list[bytes], list[str]]:
        settings = self._runtime.settings
        if body.lstrip()[:1] != b"[":
            return self._message(body, None, prefix="")
        try:
            items = pydantic_core.from_json(body, allow_inf_nan=False)
        except ValueError:
            raise InvalidInput.from_contract(_unparsable(body)) from None
        if not items:
            raise InvalidInput("the batch is empty", reason=Reason.INVALID_VALUE.value)
        if len(items) > settings.api_post_max_events:
            raise PayloadTooLarge(
                f"{len(items)} events: at most {settings.api_post_max_events} per request"
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
        limit = self._runtime.settings.max_message_bytes
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
