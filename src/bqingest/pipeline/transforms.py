"""The pipeline's named Beam steps. Each wraps a plain function from ``records``.

``ParseMessage`` (a DoFn with two tagged outputs) and ``ParseAndValidate`` (the PTransform that
applies it) turn Pub/Sub messages into ``events`` rows (main output) and ``dead_letters`` rows
(output ``dead_letters``). Nothing is dropped: every message leaves as exactly one row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Final

import apache_beam as beam
from apache_beam.io.gcp.pubsub import PubsubMessage
from apache_beam.pvalue import TaggedOutput

from bqingest.clients import recorded_message_id
from bqingest.pipeline.metrics import Count, count, count_message_read
from bqingest.pipeline.records import (
    Destination,
    ReceivedMessage,
    RowToWrite,
    internal_error,
    process_message,
    utc_now,
)

logger = logging.getLogger(__name__)

EVENTS_TAG: Final = Destination.EVENTS.value
DEAD_LETTERS_TAG: Final = Destination.DEAD_LETTERS.value


def received(message: PubsubMessage, pubsub_boot: str | None = None) -> ReceivedMessage:
    """Beam's PubsubMessage as our plain record (no Beam types past this point).

    Under the Pub/Sub emulator (``pubsub_boot`` set) the message id is qualified with the
    emulator's boot id, since the emulator numbers messages from 1 again after every start
    (:func:`bqingest.clients.recorded_message_id`).
    """
    return ReceivedMessage(
        data=bytes(message.data or b""),
        attributes=dict(message.attributes or {}),
        message_id=(
            recorded_message_id(message.message_id, pubsub_boot) if message.message_id else None
        ),
        publish_time=message.publish_time,
    )


class ParseMessage(beam.DoFn):
    """Validates one Pub/Sub message with the event contract and builds its row.

    Main output: ``events`` rows; tagged output ``dead_letters``: rejections with their reason.
    An unexpected exception (a bug, not bad input) is also dead-lettered, as ``internal_error``
    with the exception in the message, so the payload is kept for replay once the bug is fixed.
    """

    def __init__(self, *, max_message_bytes: int, pubsub_boot: str | None = None) -> None:
        super().__init__()
        self._max_bytes = max_message_bytes
        self._boot = pubsub_boot

    def process(self, element: PubsubMessage) -> Iterator[Any]:
        message = received(element, self._boot)
        count_message_read(message.publish_time)
        try:
            row = process_message(message, max_bytes=self._max_bytes, now=utc_now())
        except Exception as exc:  # a bug, not bad input: kept as a dead letter, not swallowed
            logger.exception("unexpected error parsing message %s", message.message_id)
            row = internal_error(message, exc, now=utc_now())
        if row.destination is Destination.EVENTS:
            count(Count.EVENTS_PARSED)
            yield row
        else:
            count(Count.PARSE_REJECTED)
            yield TaggedOutput(DEAD_LETTERS_TAG, row)


class ParseAndValidate(beam.PTransform[Any, Any]):
    """Pub/Sub messages -> ``events`` rows (main) and ``dead_letters`` rows (tagged).

    ``pubsub_boot``: the emulator's boot id when reading from the emulator (see :func:`received`).
    """

    def __init__(self, *, max_message_bytes: int, pubsub_boot: str | None = None) -> None:
        super().__init__()
        self._max_message_bytes = max_message_bytes
        self._pubsub_boot = pubsub_boot

    def expand(self, messages: Any) -> Any:
        return messages | "Parse" >> beam.ParDo(
            ParseMessage(max_message_bytes=self._max_message_bytes, pubsub_boot=self._pubsub_boot)
        ).with_outputs(DEAD_LETTERS_TAG, main=EVENTS_TAG)


def rows_of(outputs: Any) -> tuple[Any, Any]:
    """The two PCollections of :class:`ParseAndValidate`'s result: (events, dead_letters)."""
    return outputs[EVENTS_TAG], outputs[DEAD_LETTERS_TAG]


__all__ = [
    "DEAD_LETTERS_TAG",
    "EVENTS_TAG",
    "ParseAndValidate",
    "ParseMessage",
    "RowToWrite",
    "received",
    "rows_of",
]
