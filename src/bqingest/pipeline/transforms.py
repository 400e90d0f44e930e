"""The pipeline's read and parse steps. The parse step wraps plain functions from ``processing``.

``ReadMessages`` is Beam's ``ReadFromPubSub`` (with attributes) minus Beam's decode of every
message into its ``PubsubMessage``: on Dataflow the runner hands the Python harness each message
as a serialized ``google.pubsub.v1.PubsubMessage``, and Beam decodes it through proto-plus, which
took 44 % of the pipeline's CPU on the SDK harness (``benchmarks/bench_harness.py``). Here the
serialized message goes on to ``ParseMessage``, which decodes it with the generated protobuf
class (:func:`decoded`). On the local runner Beam replaces the whole read with its own, which
yields Beam's ``PubsubMessage``; ``ParseMessage`` takes both.

``ParseMessage`` (a DoFn) and ``ParseAndValidate`` (the PTransform that applies it) turn every
Pub/Sub message into exactly one row: an ``events`` row when the contract accepts it, a
``dead_letters`` row when it does not (``RowToWrite.destination`` says which). Nothing is
dropped.

Rows leave keyed by the sink's shard, ``(shard, row)``: the sink batches rows across bundles per
key (:class:`bqingest.pipeline.sink.WriteToWarehouse`), and a stateful step needs keyed input.
The key is assigned here, and both tables' rows share one output, rather than two tagged outputs
and a keying step after them: the local runner runs every step of every bundle on its own, at a
cost of about a millisecond per step and bundle of (at most) 10 messages, whether the bundle
holds anything or not (docs/performance.md).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Final

import apache_beam as beam
from apache_beam.io.gcp.pubsub import PubsubMessage, ReadFromPubSub
from apache_beam.metrics.metric import Lineage
from google.pubsub_v1.types import PubsubMessage as PubsubMessageProto

from bqingest.clients import recorded_message_id
from bqingest.clock import utc_now
from bqingest.contract.registry import RegistryLoader, SchemaRegistry, UnknownTypes
from bqingest.pipeline.metrics import ParseTally
from bqingest.pipeline.processing import (
    Destination,
    ReceivedMessage,
    RowToWrite,
    internal_error,
    process_message,
)

logger = logging.getLogger(__name__)


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


_PROTO: Final = PubsubMessageProto.pb()
"""The generated protobuf class of ``google.pubsub.v1.PubsubMessage`` (no proto-plus wrapper)."""


def decoded(serialized: bytes, pubsub_boot: str | None = None) -> ReceivedMessage:
    """A serialized ``google.pubsub.v1.PubsubMessage`` (what the Dataflow runner reads) as our
    record: the same fields as Beam's ``PubsubMessage._from_proto_str``, without proto-plus."""
    message = _PROTO.FromString(serialized)
    message_id = message.message_id
    return ReceivedMessage(
        data=message.data,
        attributes=dict(message.attributes),
        message_id=recorded_message_id(message_id, pubsub_boot) if message_id else None,
        publish_time=(
            message.publish_time.ToDatetime(tzinfo=UTC)
            if message.HasField("publish_time")
            else None
        ),
    )


class _ReportLineage(beam.DoFn):
    """Passes messages through and records the subscription as the job's lineage source once,
    as Beam's own ``ReadFromPubSub`` does."""

    def __init__(self, project: str, subscription: str | None) -> None:
        super().__init__()
        self._project = project
        self._subscription = subscription
        self._reported = False

    def setup(self) -> None:
        self._reported = False

    def process(self, element: bytes) -> Iterator[bytes]:
        if not self._reported and self._subscription is not None:
            self._reported = True
            Lineage.sources().add(
                "pubsub", self._project, self._subscription, subtype="subscription"
            )
        yield element


class ReadMessages(ReadFromPubSub):
    """Beam's ``ReadFromPubSub(subscription, with_attributes=True)`` that leaves the messages
    serialized (``bytes``) for :class:`ParseMessage` to decode.

    Still a ``ReadFromPubSub``: the local runner recognises it by type and replaces it with its
    own read (which yields Beam's ``PubsubMessage``), and on Dataflow the read itself, the
    ``Read`` of Beam's Pub/Sub source, is the runner's, as before.
    """

    def __init__(self, *, subscription: str) -> None:
        super().__init__(subscription=subscription, with_attributes=True)

    def expand_continued(self, pcoll: Any) -> Any:
        project = self._source.project
        subscription = self._source.subscription_name
        return pcoll | "ReportLineage" >> beam.ParDo(
            _ReportLineage(project, subscription)
        ).with_output_types(bytes)


def shard_of(message_id: str | None, shards: int) -> int:
    """The sink's shard of a message: stable for a message id, spread evenly over ``shards``."""
    if shards <= 1 or message_id is None:
        return 0
    return zlib.crc32(message_id.encode()) % shards


class ParseMessage(beam.DoFn):
    """Validates one Pub/Sub message with the event contract and builds its row, keyed by shard.

    Input: a serialized ``PubsubMessage`` (:class:`ReadMessages` on Dataflow) or Beam's
    ``PubsubMessage`` (the local runner's read, tests).

    Output: ``(shard, RowToWrite)``, an ``events`` row or a ``dead_letters`` row with its reason.
    An unexpected exception (a bug, not bad input) is also dead-lettered, as ``internal_error``
    with the exception in the message, so the payload is kept for replay once the bug is fixed.

    Counters (namespace ``bqingest``, with their Prometheus twins: :mod:`..metrics`):
    ``messages_read``, ``events_parsed``, ``parse_rejected``, tallied per bundle.
    """

    def __init__(
        self,
        *,
        max_message_bytes: int,
        pubsub_boot: str | None = None,
        shards: int = 1,
        schemas: SchemaSettings | None = None,
    ) -> None:
        super().__init__()
        self._max_bytes = max_message_bytes
        self._boot = pubsub_boot
        self._shards = shards
        self._tally = ParseTally()
        self._schema_settings = schemas or SchemaSettings()
        self._loader: RegistryLoader | None = None
        self._schemas: SchemaRegistry | None = None

    def setup(self) -> None:
        """The schema registry, its validators compiled once per worker (DoFn instance)."""
        self._loader = self._schema_settings.loader()
        self._schemas = self._loader.current()

    def start_bundle(self) -> None:
        self._tally = ParseTally()
        if self._loader is None:
            self.setup()
        assert self._loader is not None
        self._schemas = self._loader.current()  # re-read only when the folder changed

    def process(self, element: bytes | PubsubMessage) -> Iterator[tuple[int, RowToWrite]]:
        if isinstance(element, bytes):
            message = decoded(element, self._boot)
        else:
            message = received(element, self._boot)
        self._tally.read(message.publish_time)
        try:
            row = process_message(
                message, max_bytes=self._max_bytes, now=utc_now(), schemas=self._schemas
            )
        except Exception as exc:  # a bug, not bad input: kept as a dead letter, not swallowed
            logger.exception("unexpected error parsing message %s", message.message_id)
            row = internal_error(message, exc, now=utc_now())
        if row.destination is Destination.EVENTS:
            self._tally.parsed()
        else:
            self._tally.rejected()
        yield shard_of(message.message_id, self._shards), row

    def finish_bundle(self) -> None:
        self._tally.flush()


@dataclass(frozen=True)
class SchemaSettings:
    """Where a worker's schema registry comes from (plain values: the DoFn is pickled)."""

    folder: str | None = None
    """None: the schemas shipped in the package (on Dataflow, the image's)."""
    unknown_types: str = UnknownTypes.STORE.value
    refresh_seconds: float = 10.0

    def loader(self) -> RegistryLoader:
        return RegistryLoader(
            Path(self.folder) if self.folder else None,
            unknown_types=UnknownTypes(self.unknown_types),
            refresh_seconds=self.refresh_seconds,
        )


class ParseAndValidate(beam.PTransform[Any, Any]):
    """Pub/Sub messages -> one row each, ``(shard, RowToWrite)``, for ``events`` or
    ``dead_letters``.

    ``pubsub_boot``: the emulator's boot id when reading from the emulator (see :func:`received`);
    ``shards``: how many keys the sink batches under (see :func:`shard_of`).
    """

    def __init__(
        self,
        *,
        max_message_bytes: int,
        pubsub_boot: str | None = None,
        shards: int = 1,
        schemas: SchemaSettings | None = None,
    ) -> None:
        super().__init__()
        self._max_message_bytes = max_message_bytes
        self._pubsub_boot = pubsub_boot
        self._shards = shards
        self._schemas = schemas

    def expand(self, messages: Any) -> Any:
        parse = ParseMessage(
            max_message_bytes=self._max_message_bytes,
            pubsub_boot=self._pubsub_boot,
            shards=self._shards,
            schemas=self._schemas,
        )
        # An int key: the sink's state is keyed with a deterministic coder (VarIntCoder).
        return messages | "Parse" >> beam.ParDo(parse).with_output_types(
            beam.typehints.Tuple[int, Any]
        )


__all__ = [
    "ParseAndValidate",
    "ParseMessage",
    "ReadMessages",
    "RowToWrite",
    "SchemaSettings",
    "decoded",
    "received",
    "shard_of",
]
