"""Events publish use case: posted events validated with the contract, then published.

Validation the schema cannot express lives here (the contract for posted events, the
Idempotency-Key and the ids derived from it, the bounds of one request).
:class:`PublishController` is built once per app with exactly what it uses; reads are
:mod:`bqingest.api.controllers.events`.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Final

import msgspec
import pydantic_core

from bqingest.api.errors import (
    ApiError,
    BatchPartlyPublished,
    InvalidInput,
    KeyNotAllowed,
    Overloaded,
    PayloadTooLarge,
)
from bqingest.api.metrics import ApiMetrics
from bqingest.api.publisher import PUBLISH_ATTRIBUTES, EventPublisher, PubSubPartialFailure
from bqingest.api.serializers.events import PublishAccepted
from bqingest.config import ApiKeySpec
from bqingest.contract import ContractError, Reason, parse_event_json
from bqingest.contract.events import message_size
from bqingest.contract.registry import SchemaRegistry


@dataclass(frozen=True, slots=True)
class PublishLimits:
    """How much one POST may carry."""

    max_events: int
    max_message_bytes: int
    max_body_bytes: int
    max_inflight_bytes: int = 8 * 1024 * 1024


class InflightBytes:
    """Bytes of POST bodies being read, parsed and published at once, and their bound.

    Parsing a body takes up to about 32 times its size (an array of {"": {}}, the worst found:
    tests/unit/api/test_publish_memory.py), so this bound, not the body limit alone, is what
    keeps an instance's memory within its limit. Beyond it a POST is answered 503 ``overloaded``
    (retry shortly) before its body is read further. One event loop: no lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> None:
        if self.used + size > self.limit:
            raise Overloaded(
                "too many bytes of POSTs are being processed at once; retry shortly (same ids)"
            )
        self.used += size

    def give(self, size: int) -> None:
        self.used -= size


logger = logging.getLogger("bqingest.api.publishing")

IDEMPOTENCY_NAMESPACE: Final = uuid.UUID("0f6c9d2e-6a43-5d0e-9b1f-2f3a8c7d4e15")
"""Ids derived from an Idempotency-Key are uuid5(this, "<key>/<index in the request>")."""
_SPLIT_BATCH: Final = msgspec.json.Decoder(list[msgspec.Raw]).decode
IDEMPOTENCY_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")
KEY_ATTRIBUTE: Final = "bqingest-key"
"""The Pub/Sub attribute naming the API key that published an event (stored in ``attributes``).
Set here from the key that authenticated the request, never from anything the producer sends."""


def derived_id(idempotency_key: str, index: int) -> str:
    """The id of the ``index``-th event of a request whose events left their ids out: the same
    key gives the same ids, so a retried request publishes the same events again."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{idempotency_key}/{index}"))


class PublishController:
    """Validates posted events with the contract and publishes them.

    Idempotent by construction: every published event has an id the client chose, or one derived
    from the request's ``Idempotency-Key``. A retry after a timeout republishes the same
    ``(source, id)``, which readers see once (the warehouse keeps the first delivery).
    """

    def __init__(
        self,
        *,
        publisher: EventPublisher,
        limits: PublishLimits,
        metrics: ApiMetrics,
        schemas: SchemaRegistry | None = None,
    ) -> None:
        self._publisher = publisher
        self._limits = limits
        self._metrics = metrics
        self.inflight = InflightBytes(limits.max_inflight_bytes)
        self._schemas = schemas

    @property
    def max_body_bytes(self) -> int:
        return self._limits.max_body_bytes

    async def publish(
        self, body: bytes, *, key: ApiKeySpec, idempotency_key: str | None = None
    ) -> PublishAccepted:
        """Validate one event or a batch with the contract, check that ``key`` may publish as
        each event's source, publish them stamped with the key's name, return their ids."""
        attributes = {**PUBLISH_ATTRIBUTES, KEY_ATTRIBUTE: key.name}
        try:
            if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
                raise InvalidInput(
                    "Idempotency-Key must be 1-255 printable ASCII characters",
                    field="Idempotency-Key",
                    reason=Reason.INVALID_VALUE.value,
                )
            messages, ids = self._messages(body, idempotency_key, key, attributes)
        except InvalidInput as exc:
            self._metrics.rejected_events.labels(exc.reason or "invalid").inc()
            raise
        except KeyNotAllowed:
            self._metrics.rejected_events.labels("source_not_allowed").inc()
            raise
        try:
            await self._publisher.publish(messages, attributes)
        except PubSubPartialFailure as partial:
            self._metrics.published_events.inc(len(partial.accepted))
            # The client gets the error's code only; the error itself (which may name the
            # project and the topic) goes to the log.
            logger.warning(
                "Pub/Sub took %d of %d events, then: %r",
                len(partial.accepted),
                len(ids),
                partial.error,
            )
            raise BatchPartlyPublished(
                f"Pub/Sub took {len(partial.accepted)} of {len(ids)} events "
                f"({_error_code(partial.error)}); retry the whole request: the ids stay the "
                "same and each event is kept once",
                accepted=[ids[i] for i in partial.accepted],
            ) from partial
        self._metrics.published_events.inc(len(messages))
        return PublishAccepted(ids=ids, count=len(ids))

    def _messages(
        self, body: bytes, key: str | None, api_key: ApiKeySpec, attributes: dict[str, str]
    ) -> tuple[list[bytes], list[str]]:
        context = _Context(api_key, attributes)
        if body.lstrip()[:1] != b"[":
            return self._message(body, prefix="", key=key, index=0, context=context)
        try:
            # Each event's bytes, not its values: every event is then parsed once, by the
            # contract. Bodies msgspec refuses (NaN, a number that overflows a double, not
            # JSON) take the path below, which names the event and the field.
            raws = _SPLIT_BATCH(body)
        except msgspec.DecodeError:
            return self._parsed_batch(body, key, context)
        self._check_batch_size(len(raws))
        messages: list[bytes] = []
        ids: list[str] = []
        for index, raw in enumerate(raws):
            item_messages, item_ids = self._message(
                bytes(raw), prefix=f"[{index}]", key=key, index=index, context=context
            )
            messages += item_messages
            ids += item_ids
        return messages, ids

    def _parsed_batch(
        self, body: bytes, key: str | None, context: _Context
    ) -> tuple[list[bytes], list[str]]:
        try:
            # NaN and infinities parse here so that the contract names the event and field.
            items = pydantic_core.from_json(body)
        except ValueError:
            raise InvalidInput.from_contract(_unparsable(body)) from None
        self._check_batch_size(len(items))
        messages: list[bytes] = []
        ids: list[str] = []
        for index in range(len(items)):
            # Each event's values are dropped once serialized: it is parsed again from its bytes
            # by the contract, and two copies of a large event would double the peak.
            raw = pydantic_core.to_json(items[index])
            items[index] = None
            item_messages, item_ids = self._message(
                raw, prefix=f"[{index}]", key=key, index=index, context=context
            )
            messages += item_messages
            ids += item_ids
        return messages, ids

    def _check_batch_size(self, count: int) -> None:
        """A batch holds at least one event and at most ``max_events``."""
        if not count:
            raise InvalidInput("the batch is empty", reason=Reason.INVALID_VALUE.value)
        if count > self._limits.max_events:
            raise PayloadTooLarge(f"{count} events: at most {self._limits.max_events} per request")

    def _message(
        self,
        raw: bytes,
        *,
        prefix: str,
        key: str | None,
        index: int,
        context: _Context,
    ) -> tuple[list[bytes], list[str]]:
        """One validated event as the message to publish (its id derived from the key if it
        had none; without a key an id is required)."""
        try:
            event = parse_event_json(raw)
            if self._schemas is not None:  # the pipeline's verdict on data, as a 422
                self._schemas.check(event.type, event.dataschema, event.data)
        except ContractError as exc:
            raise InvalidInput.from_contract(exc, prefix=prefix) from None
        if not context.api_key.may_publish_as(event.source):
            raise KeyNotAllowed(
                f"the API key {context.api_key.name!r} may not publish events of source "
                f"{event.source[:200]!r}",
                field=f"{prefix}.source" if prefix else "source",
            )
        event_id = event.id
        message = raw
        if event_id is None:
            if key is None:
                raise InvalidInput(
                    "required attribute 'id' is missing: give every event an id, or send an "
                    "Idempotency-Key header to have ids derived from it (then a retried request "
                    "publishes the same events, never new ones)",
                    field=f"{prefix}.id" if prefix else "id",
                    reason=Reason.MISSING_FIELD.value,
                )
            event_id = derived_id(key, index)
            # The contract accepted a JSON object with specversion and without id: the id goes
            # in front, without parsing the event again.
            message = b'{"id":"' + event_id.encode() + b'",' + raw.lstrip()[1:]
        limit = self._limits.max_message_bytes
        size = message_size(message, context.attributes)
        if size > limit:
            raise InvalidInput(
                f"the event is {size} bytes with its Pub/Sub attributes, over the limit of "
                f"{limit} bytes",
                field=prefix or None,
                reason=Reason.TOO_LARGE.value,
            )
        return [message], [event_id]


@dataclass(frozen=True, slots=True)
class _Context:
    """What every event of one request is checked and published with."""

    api_key: ApiKeySpec
    attributes: dict[str, str]


def _error_code(error: BaseException) -> str:
    """What a client may learn of an upstream error: the tree's code, or the gRPC status."""
    if isinstance(error, ApiError):
        return error.code
    status = getattr(error, "grpc_status_code", None)
    name = getattr(status, "name", None)
    return name.lower() if isinstance(name, str) else "unknown"


def _unparsable(body: bytes) -> ContractError:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as err:
        return ContractError(Reason.NOT_UTF8, f"body is not valid UTF-8 (byte {err.start})")
    return ContractError(Reason.NOT_JSON, "body is not valid JSON")
