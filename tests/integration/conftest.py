"""The real local stack (Pub/Sub emulator + bqemulator) on free ports, once per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import bigquery, pubsub_v1

from bqingest import clients
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.local.stack import LocalStack
from tests.conftest import local_settings
from tests.support import free_port


def stack_settings(data_dir: Path) -> LocalSettings:
    """Local settings on free ports, so tests never collide with a running `make run`."""
    return local_settings(
        data_dir,
        pubsub_emulator_host=f"127.0.0.1:{free_port()}",
        bigquery_emulator_host=f"127.0.0.1:{free_port()}",
        bigquery_emulator_grpc_host=f"127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    settings = stack_settings(tmp_path_factory.mktemp("stack"))
    with LocalStack(settings) as running:
        yield running


def unique_resources(settings: LocalSettings) -> LocalSettings:
    """``settings`` with a dataset, topics and subscriptions of their own (a random suffix)."""
    suffix = uuid.uuid4().hex[:8]
    return settings.model_copy(
        update={
            "dataset": f"bqingest_{suffix}",
            "topic": f"events-{suffix}",
            "subscription": f"events-pipeline-{suffix}",
        }
    )


@pytest.fixture
def settings(stack: LocalStack) -> LocalSettings:
    """The session stack's settings with resource names unique to this test."""
    return unique_resources(stack.settings)


@pytest.fixture
def bq(settings: LocalSettings) -> bigquery.Client:
    return clients.bigquery_client(settings.endpoints)


@pytest.fixture
def publisher(settings: LocalSettings) -> pubsub_v1.PublisherClient:
    return clients.publisher_client(settings.endpoints)


@pytest.fixture
def subscriber(settings: LocalSettings) -> Iterator[pubsub_v1.SubscriberClient]:
    client = clients.subscriber_client(settings.endpoints)
    yield client
    client.close()


@pytest.fixture
def bootstrapped(
    settings: LocalSettings,
    bq: bigquery.Client,
    publisher: pubsub_v1.PublisherClient,
    subscriber: pubsub_v1.SubscriberClient,
) -> LocalSettings:
    """A test's own topics, subscriptions, dataset, tables and view."""
    bootstrap(settings, bigquery_client=bq, publisher=publisher, subscriber=subscriber)
    return settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test."""
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
