"""ParseAndValidate in a TestPipeline: valid messages to events, the rest to dead_letters."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.io.gcp.pubsub import PubsubMessage
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to
from google.protobuf.timestamp_pb2 import Timestamp
from google.pubsub_v1.types import PubsubMessage as PubsubMessageProto

from bqingest.pipeline.transforms import (
    ParseAndValidate,
    ReadMessages,
    decoded,
    received,
    shard_of,
)
from tests.conftest import PUBLISHED


def pubsub(data: bytes, message_id: str, attributes: dict[str, str] | None = None) -> PubsubMessage:
    return PubsubMessage(data, attributes or {}, message_id=message_id, publish_time=PUBLISHED)


def event(event_id: str) -> bytes:
    return json.dumps(
        {"specversion": "1.0", "id": event_id, "source": "//s", "type": "t", "data": {}}
    ).encode()


def test_parse_and_validate_tags_every_message() -> None:
    messages = [
        pubsub(event("a"), "1"),
        pubsub(event("b"), "2", {"origin": "test"}),
        pubsub(b"not json", "3"),
        pubsub(event("bad id"), "4"),
        pubsub(b'{"t": 1}', "5", {"ce-type": "t", "ce-source": "//s"}),
    ]
    with test_pipeline.TestPipeline(runner="BundleBasedDirectRunner") as pipeline:
        rows = (
            pipeline
            | beam.Create(messages)
            | ParseAndValidate(max_message_bytes=4096)
            | "Unkeyed" >> beam.Values()
        )
        events = rows | "Events" >> beam.Filter(lambda r: r.destination.value == "events")
        dead_letters = rows | "DeadLetters" >> beam.Filter(
            lambda r: r.destination.value == "dead_letters"
        )
        assert_that(
            events | "EventIds" >> beam.Map(lambda r: (r.destination.value, r.row["id"])),
            equal_to([("events", "a"), ("events", "b")]),
            label="events",
        )
        assert_that(
            dead_letters
            | "Reasons"
            >> beam.Map(lambda r: (r.row["message_id"], r.row["reason"], r.row["stage"])),
            equal_to(
                [
                    ("3", "not_json", "parse"),
                    ("4", "invalid_id", "parse"),
                    ("5", "missing_field", "parse"),
                ]
            ),
            label="dead_letters",
        )


def test_received_copies_beams_message_into_plain_values() -> None:
    message = received(pubsub(b"x", "9", {"k": "v"}))
    assert (message.data, dict(message.attributes), message.message_id) == (b"x", {"k": "v"}, "9")
    assert message.publish_time == PUBLISHED
    empty = received(PubsubMessage(None, {"k": "v"}))
    assert (empty.data, empty.message_id, empty.publish_time) == (b"", None, None)


def test_under_the_emulator_the_message_id_carries_its_boot() -> None:
    assert received(pubsub(b"x", "9"), "0a1b2c3d4e5f").message_id == "0a1b2c3d4e5f-9"
    assert received(PubsubMessage(b"x", {}), "0a1b2c3d4e5f").message_id is None


def test_a_scheduler_tick_gets_its_qualified_message_id_as_event_id() -> None:
    tick = {"ce-specversion": "1.0", "ce-type": "t", "ce-source": "//s"}
    with test_pipeline.TestPipeline(runner="BundleBasedDirectRunner") as pipeline:
        rows = (
            pipeline
            | beam.Create([pubsub(b"{}", "7", tick)])
            | ParseAndValidate(max_message_bytes=4096, pubsub_boot="0a1b2c3d4e5f")
        )
        assert_that(
            rows | beam.Map(lambda kv: (kv[0], kv[1].row["id"], kv[1].row["message_id"])),
            equal_to([(0, "0a1b2c3d4e5f-7", "0a1b2c3d4e5f-7")]),
        )


def test_rows_are_keyed_by_a_stable_shard_of_their_message_id() -> None:
    shards = [shard_of(f"boot-{n}", 4) for n in range(400)]
    assert set(shards) == {0, 1, 2, 3}
    assert all(60 <= shards.count(s) <= 140 for s in range(4))  # about even
    assert shard_of("boot-7", 4) == shard_of("boot-7", 4)
    assert shard_of("boot-7", 1) == shard_of(None, 4) == 0


def serialized(
    data: bytes, message_id: str = "", attributes: dict[str, str] | None = None, *, stamped=True
) -> bytes:
    """A message as the Dataflow runner hands it to the harness: a serialized PubsubMessage."""
    proto = PubsubMessageProto.pb()(data=data, attributes=attributes or {}, message_id=message_id)
    if stamped:
        stamp = Timestamp()
        stamp.FromDatetime(PUBLISHED)
        proto.publish_time.CopyFrom(stamp)
    return proto.SerializeToString()


@pytest.mark.parametrize(
    "message",
    [
        serialized(b'{"a": 1}', "12", {"ce-type": "t", "k": "v"}),
        serialized(b"", "3"),
        serialized(b"x", "", stamped=False),
        serialized("é €".encode(), "4", {"ümlaut": "wert"}),
    ],
    ids=["full", "empty-body", "no-id-no-time", "unicode"],
)
@pytest.mark.parametrize("boot", [None, "0a1b2c3d4e5f"])
def test_decoding_with_protobuf_gives_what_beams_decode_gives(message: bytes, boot) -> None:
    assert decoded(message, boot) == received(PubsubMessage._from_proto_str(message), boot)


def test_a_publish_time_keeps_its_microseconds_and_is_utc() -> None:
    stamp = decoded(serialized(b"x", "1")).publish_time
    assert stamp == PUBLISHED and stamp.utcoffset().total_seconds() == 0


def test_the_pipeline_parses_messages_left_serialized_by_its_read_on_the_harness() -> None:
    """What runs on Dataflow after the runner's Pub/Sub read: ReadMessages' own steps, then the
    parse, on Beam's portable runner (the SDK harness)."""
    read = ReadMessages(subscription="projects/bqingest-test/subscriptions/events")
    messages = [
        serialized(event("a"), "1"),
        serialized(b"not json", "2"),
        serialized(b'{"t": 1}', "3", {"ce-specversion": "1.0", "ce-type": "t", "ce-source": "//s"}),
    ]
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        raw = pipeline | beam.Create(messages).with_output_types(bytes)
        rows = read.expand_continued(raw) | ParseAndValidate(max_message_bytes=4096)
        assert_that(
            rows
            | beam.Map(
                lambda kv: (kv[1].destination.value, kv[1].row.get("id"), kv[1].row["message_id"])
            ),
            equal_to([("events", "a", "1"), ("dead_letters", None, "2"), ("events", "3", "3")]),
        )
