"""Publishing validated events to the events topic, and checking that we may.

The API publishes structured-mode CloudEvents (the body is the whole event, docs/contract.md).
:class:`PubSubPublisher` implements :class:`EventPublisher`, the protocol the controllers depend
on; tests give a fake. The client is made on first use, so an app starts without credentials.

Readiness asks Pub/Sub ``topics.testIamPermissions`` for ``pubsub.topics.publish``: the call needs
no permission of its own, says whether the topic exists (NOT_FOUND otherwise) and whether this
identity may publish, which is all the API does with it. The emulator has no IAM (it answers
UNIMPLEMENTED); there, and only there, the check falls back to reading the topic.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Final, Protocol

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions

from bqingest import clients
from bqingest.api.errors import UpstreamTimeout, translate_google_error
from bqingest.config import ApiSettings

PUBLISH_ATTRIBUTES: Final = {"content-type": "application/cloudevents+json"}
"""Informative only: the contract tells the mode by the absence of ce- attributes."""
PUBLISH_PERMISSION: Final = "pubsub.topics.publish"


class EventPublisher(Protocol):
    """Publishing validated events (structured-mode JSON) to the events topic."""

    async def publish(self, messages: Sequence[bytes]) -> list[str]:
        """Publish every message; return Pub/Sub's message ids, in order. Raise on failure."""

    def check(self) -> None:
        """Raise unless the topic exists and we may publish to it (blocks)."""


class PublishDenied(exceptions.Forbidden):
    """The topic exists but this identity may not publish to it."""


class PubSubPublisher:
    """:class:`EventPublisher` on google-cloud-pubsub (the emulator when local)."""

    def __init__(self, settings: ApiSettings) -> None:
        self._endpoints = settings.endpoints
        self._topic_path = settings.topic_path
        self._timeout = settings.api_publish_timeout_seconds
        self._check_timeout = settings.api_readiness_timeout_seconds
        self._client: pubsub_v1.PublisherClient | None = None
        self._lock = threading.Lock()

    def _publisher(self) -> pubsub_v1.PublisherClient:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = clients.publisher_client(self._endpoints)
                client = self._client
        return client

    async def publish(self, messages: Sequence[bytes]) -> list[str]:
        client = self._publisher()
        futures = [
            client.publish(self._topic_path, message, **PUBLISH_ATTRIBUTES) for message in messages
        ]
        try:
            async with asyncio.timeout(self._timeout):
                return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))
        except TimeoutError:
            raise UpstreamTimeout("Pub/Sub did not accept the events within the deadline") from None
        except Exception as exc:
            translated = translate_google_error(exc, what="Pub/Sub publish")
            if translated is exc:
                raise
            raise translated from exc

    def check(self) -> None:
        client = self._publisher()
        try:
            granted = client.test_iam_permissions(
                request={"resource": self._topic_path, "permissions": [PUBLISH_PERMISSION]},
                timeout=self._check_timeout,
            )
        except exceptions.MethodNotImplemented:  # the emulator: no IAM to ask
            client.get_topic(topic=self._topic_path, timeout=self._check_timeout)
            return
        if PUBLISH_PERMISSION not in granted.permissions:
            raise PublishDenied(  # type: ignore[no-untyped-call]
                f"no {PUBLISH_PERMISSION} on {self._topic_path}"
            )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.stop()  # flushes pending batches
                self._client.transport.close()
                self._client = None
