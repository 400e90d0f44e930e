"""Events publish use case: posted events validated with the contract, then published.

Validation the schema cannot express lives here (the contract for posted events, the
Idempotency-Key and the ids derived from it, the bounds of one request).
:class:`PublishController` is built once per app with exactly what it uses; reads are
:mod:`bqingest.api.controllers.events`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Final

import pydantic_core

from bqingest.api.errors import BatchPartlyPublished, InvalidInput, PayloadTooLarge
from bqingest.api.metrics import ApiMetrics
from bqingest.api.publisher import EventPublisher, PubSubPartialFailure
from bqingest.api.serializers.events import PublishAccepted
from bqingest.contract import ContractError, Reason, parse_event_json
from bqingest.contract.registry import SchemaRegistry


@dataclass(frozen=True, slots=True)
class PublishLimits:
    """How much one POST may carry."""

    max_events: int
    max_message_bytes: int
    max_body_bytes: int


IDEMPOTENCY_NAMESPACE: Final = uuid.UUID("0f6c9d2e-6a43-5d0e-9b1f-2f3a8c7d4e15")
"""Ids derived from an Idempotency-Key are uuid5(this, "<key>/<index in the request>")."""
IDEMPOTENCY_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")


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
        self._schemas = schemas

    @property
    def max_body_bytes(self) -> int:
        return self._limits.max_body_bytes

    async def publish(self, body: bytes, *, idempotency_key: str | None = None) -> PublishAccepted:
        """Validate one event or a batch with the contract, publish them, return their ids."""
        try:
            if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
                raise InvalidInput(
                    "Idempotency-Key must be 1-255 printable ASCII characters",
                    field="Idempotency-Key",
                    reason=Reason.INVALID_VALUE.value,
                )
            messages, ids = self._messages(body, idempotency_key)
        except InvalidInput as exc:
            self._metrics.rejected_events.labels(exc.reason or "invalid").inc()
            raise
        try:
            await self._publisher.publish(messages)
        except PubSubPartialFailure as partial:
            self._metrics.published_events.inc(len(partial.accepted))
            raise BatchPartlyPublished(
                f"Pub/Sub took {len(partial.accepted)} of {len(ids)} events ({partial.error}); "
                "retry the whole request: the ids stay the same and each event is kept once",
                accepted=[ids[i] for i in partial.accepted],
            ) from partial
        self._metrics.published_events.inc(len(messages))
        return PublishAccepted(ids=ids, count=len(ids))

    def _messages(self, body: bytes, key: str | None) -> tuple[list[bytes], list[str]]:
        if body.lstrip()[:1] != b"[":
            return self._message(body, None, prefix="", key=key, index=0)
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
            item_messages, item_ids = self._message(
                raw, item, prefix=f"[{index}]", key=key, index=index
            )
            messages += item_messages
            ids += item_ids
        return messages, ids

    def _message(
        self, raw: bytes, parsed: Any, *, prefix: str, key: str | None, index: int
    ) -> tuple[list[bytes], list[str]]:
        """One validated event as the message to publish (its id derived from the key if it
        had none; without a key an id is required)."""
        try:
            event = parse_event_json(raw)
            if self._schemas is not None:  # the pipeline's verdict on data, as a 422
                self._schemas.check(event.type, event.dataschema, event.data)
        except ContractError as exc:
            raise InvalidInput.from_contract(exc, prefix=prefix) from None
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
