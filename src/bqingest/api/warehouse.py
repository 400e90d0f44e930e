"""What the API needs from the warehouse and from Pub/Sub, and their Google implementations.

Routes and controllers see only the :class:`Warehouse` and :class:`EventPublisher` protocols
(through ``deps.WarehouseDep`` and ``deps.PublisherDep``), so tests give in-memory fakes through
FastAPI's dependency overrides. Warehouse methods block (google-cloud-bigquery is synchronous):
the controllers call them through :class:`bqingest.api.pool.WarehousePool`, never on the event
loop. Clients are created on first use, so an app starts without credentials or network.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Final, Generic, Protocol, TypeVar

import google.cloud.pubsub_v1 as pubsub_v1
from google.cloud import bigquery

from bqingest import clients
from bqingest.api.errors import DeadlineExceeded, translate_google_error
from bqingest.api.models import events as event_queries
from bqingest.api.models import health as health_checks
from bqingest.api.models.events import (
    Bucket,
    CountRow,
    EventFilter,
    EventRecord,
    Export,
    GroupBy,
    Order,
    Position,
    QueryOptions,
)
from bqingest.config import Settings

# Structured mode: the body is the whole CloudEvent (docs/contract.md). The attribute is
# informative only: the contract decides the mode by the absence of ce- attributes.
PUBLISH_ATTRIBUTES: Final = {"content-type": "application/cloudevents+json"}


class Warehouse(Protocol):
    """Reads of the de-duplicated events view. Methods block; they raise on failure."""

    def get_event(self, event_id: str) -> EventRecord | None: ...

    def list_events(
        self,
        *,
        filters: EventFilter,
        order: Order,
        after: Position | None,
        limit: int,
    ) -> list[EventRecord]: ...

    def count_events(
        self, *, filters: EventFilter, group_by: GroupBy, bucket: Bucket | None, limit: int
    ) -> list[CountRow]: ...

    def export_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> Export: ...

    def check(self) -> None:
        """Raise unless the view can be reached."""


class EventPublisher(Protocol):
    """Publishing validated events (structured-mode JSON) to the events topic."""

    async def publish(self, messages: Sequence[bytes]) -> list[str]:
        """Publish every message; return Pub/Sub's message ids, in order. Raise on failure."""

    def check(self) -> None:
        """Raise unless the topic can be reached (blocks)."""


C = TypeVar("C")


class _LazyClient(Generic[C]):
    """A client built on first use (thread-safe) and closed once."""

    def __init__(self, factory: Callable[[], C], close: Callable[[C], None]) -> None:
        self._factory = factory
        self._close = close
        self._client: C | None = None
        self._lock = threading.Lock()

    def get(self) -> C:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._factory()
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._close(self._client)
                self._client = None


class BigQueryWarehouse:
    """:class:`Warehouse` on google-cloud-bigquery (bqemulator when local)."""

    def __init__(self, settings: Settings) -> None:
        self._view_id = settings.dedup_view_id
        self._options = QueryOptions(
            timeout=settings.api_query_timeout_seconds,
            maximum_bytes_billed=settings.api_maximum_bytes_billed,
        )
        self._check_timeout = settings.api_readiness_timeout_seconds
        self._client: _LazyClient[bigquery.Client] = _LazyClient(
            lambda: clients.bigquery_client(settings),
            lambda client: client.close(),  # type: ignore[no-untyped-call]
        )

    def get_event(self, event_id: str) -> EventRecord | None:
        return event_queries.select_event(
            self._client.get(), view_id=self._view_id, event_id=event_id, options=self._options
        )

    def list_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> list[EventRecord]:
        return event_queries.select_events(
            self._client.get(),
            view_id=self._view_id,
            filters=filters,
            order=order,
            after=after,
            limit=limit,
            options=self._options,
        )

    def count_events(
        self, *, filters: EventFilter, group_by: GroupBy, bucket: Bucket | None, limit: int
    ) -> list[CountRow]:
        return event_queries.count_events(
            self._client.get(),
            view_id=self._view_id,
            filters=filters,
            group_by=group_by,
            bucket=bucket,
            limit=limit,
            options=self._options,
        )

    def export_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> Export:
        return event_queries.export_events(
            self._client.get(),
            view_id=self._view_id,
            filters=filters,
            order=order,
            after=after,
            limit=limit,
            options=self._options,
        )

    def check(self) -> None:
        health_checks.check_view(
            self._client.get(), view_id=self._view_id, timeout=self._check_timeout
        )

    def close(self) -> None:
        self._client.close()


def _stop_publisher(publisher: pubsub_v1.PublisherClient) -> None:
    publisher.stop()  # flushes pending batches
    publisher.transport.close()


class PubSubPublisher:
    """:class:`EventPublisher` on google-cloud-pubsub (the emulator when local)."""

    def __init__(self, settings: Settings) -> None:
        self._topic_path = settings.topic_path
        self._timeout = settings.api_publish_timeout_seconds
        self._check_timeout = settings.api_readiness_timeout_seconds
        self._client: _LazyClient[pubsub_v1.PublisherClient] = _LazyClient(
            lambda: clients.publisher_client(settings), _stop_publisher
        )

    async def publish(self, messages: Sequence[bytes]) -> list[str]:
        futures = event_queries.publish_events(
            self._client.get(),
            topic_path=self._topic_path,
            messages=messages,
            attributes=PUBLISH_ATTRIBUTES,
        )
        try:
            async with asyncio.timeout(self._timeout):
                return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))
        except TimeoutError:
            raise DeadlineExceeded(
                "Pub/Sub did not accept the events within the deadline"
            ) from None
        except Exception as exc:
            translated = translate_google_error(exc, what="Pub/Sub publish")
            if translated is exc:
                raise
            raise translated from exc

    def check(self) -> None:
        health_checks.check_topic(
            self._client.get(), topic_path=self._topic_path, timeout=self._check_timeout
        )

    def close(self) -> None:
        self._client.close()
