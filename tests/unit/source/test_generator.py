"""The generator's events parse as the contract says, and its faults are rejected as it expects."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from bqingest.contract.registry import SchemaRegistry
from bqingest.pipeline.processing import Destination, ReceivedMessage, process_message
from bqingest.source.generator import (
    EVENT_TYPES,
    MALFORMED_VARIANTS,
    SCHEDULER_TICK,
    EventGenerator,
)
from bqingest.source.kinds import MessageKind

NOW = datetime(2026, 11, 29, 7, tzinfo=UTC)
LIMIT = 8192


def generator(**kwargs: object) -> EventGenerator:
    return EventGenerator(seed=5, clock=lambda: NOW, max_message_bytes=LIMIT, **kwargs)  # type: ignore[arg-type]


SCHEMAS = SchemaRegistry.load()
"""The registry the pipeline runs with (the shipped schemas)."""


def pipeline_view(message, message_id: str = "99"):
    received = ReceivedMessage(message.data, message.attributes, message_id, NOW)
    return process_message(received, max_bytes=LIMIT, now=NOW, schemas=SCHEMAS)


@pytest.mark.parametrize("variant", MALFORMED_VARIANTS, ids=lambda v: v.__name__)
def test_each_malformed_variant_is_rejected_with_its_expected_reason(variant) -> None:
    message = variant(generator())
    assert message.kind is MessageKind.MALFORMED
    row = pipeline_view(message)
    assert row.destination is Destination.DEAD_LETTERS
    assert row.row["reason"] == message.expected_reason.value


def test_valid_events_of_every_type_are_accepted_with_their_own_shapes() -> None:
    messages = generator().batch(400)
    shapes: dict[str, set[str]] = {}
    for n, message in enumerate(messages):
        assert message.kind is MessageKind.VALID
        row = pipeline_view(message, message_id=str(n))
        assert row.destination is Destination.EVENTS, row.row
        assert row.row["type"] == message.event_type
        assert row.row["id"] == (str(n) if message.id_from_message else message.event_id)
        assert row.row["source"] == message.event_source  # the identity the ledger records
        shapes.setdefault(message.event_type, set()).add(
            ",".join(sorted(json.loads(row.row["data"])))
        )
    assert set(shapes) == set(EVENT_TYPES)
    assert all(len(keys) == 1 for keys in shapes.values()), shapes
    assert len({next(iter(keys)) for keys in shapes.values()}) == len(EVENT_TYPES)


def test_scheduler_ticks_are_binary_without_ce_id() -> None:
    ticks = [m for m in generator().batch(400) if m.event_type == SCHEDULER_TICK]
    assert ticks
    for tick in ticks:
        assert tick.id_from_message and tick.event_id is None
        assert tick.attributes["ce-specversion"] == "1.0"
        assert "ce-id" not in tick.attributes
        assert tick.attributes["ce-source"].startswith("//cloudscheduler.googleapis.com/projects/")


def test_same_seed_same_messages_and_fractions_hold() -> None:
    first = generator(malformed_fraction=0.1, duplicate_fraction=0.1).batch(2000)
    again = generator(malformed_fraction=0.1, duplicate_fraction=0.1).batch(2000)
    assert [(m.data, m.attributes) for m in first] == [(m.data, m.attributes) for m in again]
    kinds = Counter(m.kind for m in first)
    assert 150 <= kinds[MessageKind.MALFORMED] <= 250
    assert 150 <= kinds[MessageKind.DUPLICATE] <= 250
    seen = set()
    for message in first:
        if message.kind is MessageKind.DUPLICATE:
            assert message.event_id in seen
        elif message.kind is MessageKind.VALID and message.event_id:
            assert message.event_id not in seen
            seen.add(message.event_id)
    other = EventGenerator(seed=6, clock=lambda: NOW).batch(10)
    assert {m.event_id for m in other}.isdisjoint(seen)


def test_fractions_are_checked() -> None:
    with pytest.raises(ValueError, match="must not exceed 1"):
        EventGenerator(malformed_fraction=0.6, duplicate_fraction=0.6)


def test_order_created_gains_an_optional_coupon_part_way_through() -> None:
    source = generator(coupon_from=200)
    orders = [
        json.loads(m.data)["data"]
        for m in source.batch(400)
        if m.event_type == "com.bqingest.shop.order.created"
    ]
    with_coupon = [order for order in orders if "coupon" in order]
    assert with_coupon and len(with_coupon) < len(orders)
    assert all(isinstance(order["coupon"], str) for order in with_coupon)
