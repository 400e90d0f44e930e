"""Publishing validated events to the events topic, and checking that we may.

The API publishes structured-mode CloudEvents (the body is the whole event, docs/contract.md).
:class:`PubSubPublisher` implements :class:`EventPublisher`, the protocol the controllers depend
on; tests give a fake. The client is made on first use, so an app starts without credentials.

Bounded: each message's retries end at the request's publish deadline (the library's default
goes on for 10 minutes), and the client's flow control refuses (503) rather than queues more than
``api_publish_max_pending_bytes`` of messages. A batch of which Pub/Sub took only some messages
raises :class:`PubSubPartialFailure`, which says which.

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
from google.api_core.retry import Retry, if_exception_type
from google.cloud.pubsub_v1.publisher.exceptions import FlowControlLimitError

from bqingest import clients
from bqingest.api.errors import Overloaded, UpstreamTimeout, translate_google_error
from bqingest.config import ApiSettings
from bqingest.errors import BqingestError

PUBLISH_ATTRIBUTES: Final = {"content-type": "application/cloudevents+json"}
"""Informative only: the contract tells the mode by the absence of ce- attributes."""
PUBLISH_PERMISSION: Final = "pubsub.topics.publish"
_TRANSIENT: Final = (
    exceptions.Aborted,
    exceptions.DeadlineExceeded,
    exceptions.InternalServerError,
    exceptions.ResourceExhausted,
    exceptions.ServiceUnavailable,
    exceptions.Unknown,
    exceptions.Cancelled,
)


class PubSubPartialFailure(BqingestError):
    """Pub/Sub took some messages of a batch and not the others: the publisher's report, by
    message index (the controller answers it with
    :class:`~bqingest.api.errors.BatchPartlyPublished`)."""

    def __init__(self, accepted: list[int], error: BaseException) -> None:
        super().__init__(f"{len(accepted)} message(s) published; then: {error}")
        self.accepted = accepted
        """Indexes of the messages Pub/Sub accepted."""
        self.error = error


class EventPublisher(Protocol):
    """Publishing validated events (structured-mode JSON) to the events topic."""

    async def publish(self, messages: Sequence[bytes]) -> list[str]:
        """Publish every message; return Pub/Sub's message ids, in order.

        Raise on failure: :class:`PubSubPartialFailure` when some messages were accepted.
        """

    def check(self) -> None:
        """Raise unless the topic exists and we may publish to it (blocks)."""


class PublishDenied(exceptions.Forbidden, BqingestError):
    """The topic exists but this identity may not publish to it."""


class PubSubPublisher:
    """:class:`EventPublisher` on google-cloud-pubsub (the emulator when local)."""

    def __init__(self, settings: ApiSettings) -> None:
        self._endpoints = settings.endpoints
        self._topic_path = settings.topic_path
        self._timeout = settings.api_publish_timeout_seconds
        self._check_timeout = settings.api_readiness_timeout_seconds
        self._retry = Retry(predicate=if_exception_type(*_TRANSIENT), timeout=self._timeout)
        self._options = pubsub_v1.types.PublisherOptions(
            flow_control=pubsub_v1.types.PublishFlowControl(
                byte_limit=settings.api_publish_max_pending_bytes,
                message_limit=100_000,
                limit_exceeded_behavior=pubsub_v1.types.LimitExceededBehavior.ERROR,
            )
        )
        self._client: pubsub_v1.PublisherClient | None = None
        self._lock = threading.Lock()

    def _publisher(self) -> pubsub_v1.PublisherClient:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = clients.publisher_client(
                        self._endpoints, publisher_options=self._options
                    )
                client = self._client
        return client

    async def publish(self, messages: Sequence[bytes]) -> list[str]:
        client = self._publisher()
        futures: list[asyncio.Future[str]] = []
        failure: BaseException | None = None
        for message in messages:
            try:
                future = client.publish(
                    self._topic_path,
                    message,
                    retry=self._retry,
                    timeout=self._timeout,
                    **PUBLISH_ATTRIBUTES,
                )
            except FlowControlLimitError as exc:  # nothing more is queued: the rest waits
                failure = Overloaded(
                    "too many events are waiting for Pub/Sub; retry shortly (same ids)"
                )
                failure.__cause__ = exc
                break
            futures.append(asyncio.wrap_future(future))
        try:
            async with asyncio.timeout(self._timeout):
                outcomes = await asyncio.gather(*futures, return_exceptions=True)
        except TimeoutError:
            raise UpstreamTimeout("Pub/Sub did not accept the events within the deadline") from None
        ids = [outcome for outcome in outcomes if isinstance(outcome, str)]
        if failure is None:
            failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failure is None:
            return ids
        translated = translate_google_error(failure, what="Pub/Sub publish")  # type: ignore[arg-type]
        if ids:
            accepted = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, str)]
            raise PubSubPartialFailure(accepted, translated) from failure
        if translated is failure:
            raise failure
        raise translated from failure

    def check(self) -> None:
        client = self._publisher()
        try:
            granted = client.test_iam_permissions(
                request={"resource": self._topic_path, "permissions": [PUBLISH_PERMISSION]},
                retry=None,
                timeout=self._check_timeout,
            )
        except exceptions.MethodNotImplemented:  # the emulator: no IAM to ask
            client.get_topic(topic=self._topic_path, retry=None, timeout=self._check_timeout)
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
