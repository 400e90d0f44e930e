"""In-memory fakes of the warehouse reader and the publisher, given to the app at its seam."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bqingest.api.main import create_app
from bqingest.api.security import hash_api_key
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
from tests.conftest import local_settings

T0 = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
"""What the app takes for now: default windows (a week before now) hold every event above."""
API_KEY = "test-key-0123456789-abcdefghij"
OTHER_KEY = "wrong-key-0123456789-abcdefghij"


def record(event_id: str, *, minutes: float = 0, **overrides: Any) -> EventRecord:
    """A stored event as the view would return it."""
    values: dict[str, Any] = {
        "id": event_id,
        "source": "//shop.example.com/orders",
        "type": "com.example.order.created",
        "specversion": "1.0",
        "subject": None,
        "time": T0 + timedelta(minutes=minutes),
        "datacontenttype": "application/json",
        "dataschema": None,
        "data": {"order_id": event_id, "amount": 12.5},
        "extensions": None,
        "attributes": None,
        "message_id": f"m-{event_id}",
        "publish_time": T0 + timedelta(minutes=minutes, seconds=1),
        "ingested_at": T0 + timedelta(minutes=minutes, seconds=2),
    }
    values.update(overrides)
    return EventRecord(**values)


def _matches(event: EventRecord, filters: EventFilter) -> bool:
    return (
        (filters.type is None or event.type == filters.type)
        and (filters.source is None or event.source == filters.source)
        and (filters.subject is None or event.subject == filters.subject)
        and (filters.since is None or event.time >= filters.since)
        and (filters.until is None or event.time < filters.until)
        and all(
            isinstance(event.data, dict) and event.data.get(f.name) == f.value for f in filters.data
        )
    )


def _after(event: EventRecord, position: Position | None, order: Order) -> bool:
    if position is None:
        return True
    key = (event.time, event.source, event.id)
    mark = (position.time, position.source, position.id)
    return key > mark if order == "asc" else key < mark


@dataclass
class FakeWarehouse:
    """The :class:`~bqingest.warehouse.events.EventReader` protocol over a list of events (one
    per (source, id), as the reader returns them).

    ``fail`` (an exception) is raised by every call; ``block`` (an Event) makes calls wait for it.
    """

    events: list[EventRecord] = field(default_factory=list)
    fail: Exception | None = None
    block: threading.Event | None = None
    calls: list[str] = field(default_factory=list)
    page_size: int = 7

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self.block is not None:
            self.block.wait(timeout=10)
        if self.fail is not None:
            raise self.fail

    def _select(self, filters: EventFilter, order: Order, after: Position | None) -> list[Any]:
        rows = [e for e in self.events if _matches(e, filters) and _after(e, after, order)]
        return sorted(rows, key=lambda e: (e.time, e.source, e.id), reverse=order == "desc")

    def get_events(self, event_id: str, *, source: str | None, limit: int) -> list[EventRecord]:
        self._enter("get_event")
        found = [
            e for e in self.events if e.id == event_id and (source is None or e.source == source)
        ]
        return sorted(found, key=lambda e: e.source)[:limit]

    def list_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> list[EventRecord]:
        self._enter("list_events")
        return self._select(filters, order, after)[:limit]

    def count_events(
        self, *, filters: EventFilter, group_by: GroupBy, bucket: Bucket | None, limit: int
    ) -> list[CountRow]:
        self._enter("count_events")
        counts: dict[tuple[str, datetime | None], int] = {}
        for event in self._select(filters, "asc", None):
            start = None
            if bucket == "hour":
                start = event.time.replace(minute=0, second=0, microsecond=0)
            elif bucket == "day":
                start = event.time.replace(hour=0, minute=0, second=0, microsecond=0)
            group = (getattr(event, group_by), start)
            counts[group] = counts.get(group, 0) + 1
        ordered = sorted(counts.items(), key=lambda item: (item[0][1] or T0, item[0][0]))
        return [CountRow(key=k, bucket_start=b, count=n) for (k, b), n in ordered][:limit]

    def export_events(
        self, *, filters: EventFilter, order: Order, after: Position | None, limit: int
    ) -> Export:
        self._enter("export_events")
        rows = self._select(filters, order, after)[:limit]
        pages = iter([rows[i : i + self.page_size] for i in range(0, len(rows), self.page_size)])
        return Export(total_rows=len(rows), pages=pages)

    def check(self) -> None:
        self._enter("check")


@dataclass
class FakePublisher:
    """The :class:`~bqingest.api.publisher.EventPublisher` protocol, keeping what it was given."""

    published: list[bytes] = field(default_factory=list)
    attributes: list[dict[str, str]] = field(default_factory=list)
    fail: Exception | None = None

    async def publish(self, messages: Sequence[bytes], attributes: Mapping[str, str]) -> list[str]:
        if self.fail is not None:
            raise self.fail
        self.published.extend(messages)
        self.attributes.extend(dict(attributes) for _ in messages)
        return [str(len(self.published) - len(messages) + i) for i in range(len(messages))]

    def check(self) -> None:
        if self.fail is not None:
            raise self.fail


@dataclass
class ApiHarness:
    """An app wired to fakes, and a client that runs its lifespan."""

    app: FastAPI
    client: TestClient
    warehouse: FakeWarehouse
    publisher: FakePublisher

    @property
    def controllers(self) -> Any:
        return self.app.state.controllers


def build_harness(
    tmp_path: Path,
    events: Sequence[EventRecord] = (),
    *,
    raise_server_exceptions: bool = True,
    **settings: Any,
) -> ApiHarness:
    values: dict[str, Any] = {"api_keys": (hash_api_key(API_KEY),)}
    values.update(settings)
    warehouse = FakeWarehouse(events=list(events))
    publisher = FakePublisher()
    app = create_app(
        local_settings(tmp_path, **values), reader=warehouse, publisher=publisher, clock=lambda: NOW
    )
    client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
    return ApiHarness(app=app, client=client, warehouse=warehouse, publisher=publisher)


@pytest.fixture
def harness_factory(tmp_path: Path) -> Iterator[Callable[..., ApiHarness]]:
    """Build apps over fakes; every client is closed (lifespan ended) after the test."""
    made: list[ApiHarness] = []

    def make(
        events: Sequence[EventRecord] = (), *, raise_server_exceptions: bool = True, **settings: Any
    ) -> ApiHarness:
        harness = build_harness(
            tmp_path, events, raise_server_exceptions=raise_server_exceptions, **settings
        )
        harness.client.__enter__()
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.client.__exit__(None, None, None)


@pytest.fixture
def api(harness_factory: Callable[..., ApiHarness]) -> ApiHarness:
    """An app with three events: two at the same minute, one later."""
    return harness_factory(
        [
            record("order-000042"),
            record("order-000043"),
            record("order-000044", minutes=90, type="com.example.order.paid"),
        ]
    )
