"""Rows written through the real schema, and apps over the real BigQuery and Pub/Sub clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from google.cloud import bigquery

from bqingest import clients
from bqingest.api.main import create_app
from bqingest.api.security import hash_api_key
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.contract import MessageContext, event_row, parse_message
from bqingest.local.stack import LocalStack
from tests.integration.conftest import unique_resources

T0 = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
"""What the apps take for now: their default windows (a week before now) hold every seeded event.

The app's clock is injected, not read: a fixed T0 seen through a window that follows the real
clock empties every default listing a week after the date was written."""
API_KEY = "integration-key-0123456789"


@dataclass(frozen=True)
class Delivery:
    """One Pub/Sub delivery of an event: the body and what Pub/Sub says about it."""

    body: dict[str, Any]
    message_id: str
    publish_time: datetime
    attributes: dict[str, str] | None = None


def event(event_id: str, *, minutes: float = 0, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": "//shop.example.com/orders",
        "type": "com.example.order.created",
        "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        "data": {"order_id": event_id, "amount": 12.5},
    }
    body.update(fields)
    return body


def delivery(body: dict[str, Any], *, after_seconds: float = 1, **kwargs: Any) -> Delivery:
    return Delivery(
        body=body,
        message_id=kwargs.pop("message_id", f"m-{body['id']}-{uuid.uuid4().hex[:6]}"),
        publish_time=kwargs.pop(
            "publish_time",
            datetime.fromisoformat(body["time"]) + timedelta(seconds=after_seconds),
        ),
        **kwargs,
    )


def _insertable(row: dict[str, Any]) -> dict[str, Any]:
    """insertAll takes JSON: timestamps as RFC 3339 text (JSON columns are already text)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def seed(bq: bigquery.Client, settings: LocalSettings, deliveries: Sequence[Delivery]) -> None:
    """Write deliveries the way the pipeline does: parse with the contract, build the row."""
    rows = []
    for item in deliveries:
        context = MessageContext(
            message_id=item.message_id,
            publish_time=item.publish_time,
            attributes=item.attributes or {},
        )
        parsed = parse_message(json.dumps(item.body).encode(), context)
        rows.append(_insertable(event_row(parsed, context, ingested_at=item.publish_time)))
    errors = bq.insert_rows_json(settings.events_table_id, rows)
    assert errors == [], errors


def api_settings(settings: LocalSettings, **overrides: Any) -> LocalSettings:
    return settings.model_copy(
        update={"api_keys": (hash_api_key(API_KEY),), "api_access_log": False, **overrides}
    )


def serving(settings: LocalSettings) -> FastAPI:
    """An app over the real clients of ``settings`` whose now is ``NOW``."""
    return create_app(settings, clock=lambda: NOW)


@pytest.fixture
def api_client(bootstrapped: LocalSettings) -> Iterator[TestClient]:
    """An app on the test's own dataset and topic, with the real clients."""
    with TestClient(serving(api_settings(bootstrapped))) as client:
        yield client


@pytest.fixture(scope="module")
def shared_dataset(stack: LocalStack) -> Iterator[LocalSettings]:
    """A dataset bootstrapped once for a module's read-only tests."""
    settings = unique_resources(stack.settings)
    bq = clients.bigquery_client(settings.endpoints)
    publisher = clients.publisher_client(settings.endpoints)
    subscriber = clients.subscriber_client(settings.endpoints)
    bootstrap(settings, bigquery_client=bq, publisher=publisher, subscriber=subscriber)
    subscriber.close()
    yield settings
    bq.close()
