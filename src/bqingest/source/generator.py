"""Realistic CloudEvents for the source: a few event types, bad messages and repeats on purpose.

Four event types, each with its own ``data`` shape and Pub/Sub mode:

========================================  ==========  ==========================================
type                                      mode        data
========================================  ==========  ==========================================
``com.bqingest.shop.order.created``       structured  order id, customer, currency, items, total
``com.bqingest.iot.sensor.reading``       binary      device, temperature, humidity, battery
``com.bqingest.web.page.viewed``          structured  session, url, referrer, agent, duration;
                                                      an extension attribute and a dataschema
``com.bqingest.scheduler.tick``           binary      what Cloud Scheduler publishes: no
                                                      ``ce-id`` (the message id becomes the id)
========================================  ==========  ==========================================

Every type has a schema in the registry (``bqingest/contract/schemas``). From message number
``coupon_from`` on (when set), ``order.created`` events carry a new optional field, ``coupon``:
the type's second revision, which a running pipeline accepts before and after its schema declares
the field (docs/schemas.md).

A share of the messages is **malformed** in one of the ways real producers get it wrong, each with
the reason code the contract must give it (:data:`MALFORMED_VARIANTS`; ``data`` breaking its
schema is one), and a share **repeats** an earlier event (same body and attributes, so same
event id, new message id). The same ``seed`` gives the same sequence of ids, types, payloads and
faults; only the ``time`` values follow the clock.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bqingest.clock import utc_now
from bqingest.contract import DEFAULT_MAX_MESSAGE_BYTES, Reason
from bqingest.source.kinds import MessageKind

ORDER_CREATED: Final = "com.bqingest.shop.order.created"
SENSOR_READING: Final = "com.bqingest.iot.sensor.reading"
PAGE_VIEWED: Final = "com.bqingest.web.page.viewed"
SCHEDULER_TICK: Final = "com.bqingest.scheduler.tick"
EVENT_TYPES: Final = (ORDER_CREATED, SENSOR_READING, PAGE_VIEWED, SCHEDULER_TICK)
_TYPE_WEIGHTS: Final = (40, 35, 20, 5)

SCHEDULER_SOURCE: Final = (
    "//cloudscheduler.googleapis.com/projects/bqingest-local/locations/europe-west1/jobs/"
    "bqingest-source"
)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One Pub/Sub message to publish and what the pipeline should make of it.

    ``event_id`` is None when the Pub/Sub message id becomes the event id (``id_from_message``,
    scheduler ticks) or when a malformed message has no usable id.
    """

    data: bytes
    attributes: dict[str, str]
    kind: MessageKind
    event_type: str | None
    event_id: str | None
    expected_reason: Reason | None = None
    id_from_message: bool = False
    event_source: str | None = None
    """The event's CloudEvents ``source``: with its id, the event's identity (None when
    malformed)."""


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class EventGenerator:
    """Seeded generator of :class:`OutgoingMessage` batches (see the module docstring)."""

    seed: int | None = None
    malformed_fraction: float = 0.0
    duplicate_fraction: float = 0.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    clock: Callable[[], datetime] = utc_now
    history_size: int = 1000
    coupon_from: int | None = None
    """From this many messages on, order.created events carry ``coupon`` (None: never)."""

    def __post_init__(self) -> None:
        if not 0 <= self.malformed_fraction <= 1 or not 0 <= self.duplicate_fraction <= 1:
            raise ValueError("fractions must be between 0 and 1")
        if self.malformed_fraction + self.duplicate_fraction > 1:
            raise ValueError("malformed_fraction + duplicate_fraction must not exceed 1")
        self._rng = random.Random(self.seed)  # noqa: S311 - test data, not secrets
        # Part of every id, so two runs never collide unless they share a seed on purpose.
        self.run_tag = f"{self._rng.getrandbits(40):010x}"
        self._sequence = 0
        self._messages = 0
        self._history: deque[OutgoingMessage] = deque(maxlen=self.history_size)

    def batch(self, size: int) -> list[OutgoingMessage]:
        """The next ``size`` messages."""
        return [self.next_message() for _ in range(size)]

    def __iter__(self) -> Iterator[OutgoingMessage]:
        while True:
            yield self.next_message()

    def next_message(self) -> OutgoingMessage:
        self._messages += 1
        roll = self._rng.random()
        if roll < self.malformed_fraction:
            return self._malformed()
        if roll < self.malformed_fraction + self.duplicate_fraction and self._history:
            original = self._rng.choice(self._history)
            return OutgoingMessage(
                data=original.data,
                attributes=dict(original.attributes),
                kind=MessageKind.DUPLICATE,
                event_type=original.event_type,
                event_id=original.event_id,
                event_source=original.event_source,
            )
        message = self._valid()
        if message.event_id is not None:
            self._history.append(message)
        return message

    # -- valid events --------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}-{self.run_tag}-{self._sequence:08d}"

    def _valid(self) -> OutgoingMessage:
        event_type = self._rng.choices(EVENT_TYPES, weights=_TYPE_WEIGHTS)[0]
        build = {
            ORDER_CREATED: self._revised_order,
            SENSOR_READING: self._sensor,
            PAGE_VIEWED: self._page_view,
            SCHEDULER_TICK: self._tick,
        }[event_type]
        return build()

    def _revised_order(self) -> OutgoingMessage:
        if self.coupon_from is not None and self._messages > self.coupon_from:
            return self.order_created(coupon=f"SAVE{self._rng.randrange(5, 30)}")
        return self.order_created()

    def order_created(self, *, coupon: Any = None) -> OutgoingMessage:
        """A valid ``order.created``; with ``coupon`` (when not None) in its data."""
        message = self._order()
        if coupon is None:
            return message
        body = json.loads(message.data)
        body["data"]["coupon"] = coupon
        return OutgoingMessage(
            _json(body),
            message.attributes,
            message.kind,
            message.event_type,
            message.event_id,
            event_source=message.event_source,
        )

    def _order(self) -> OutgoingMessage:
        rng = self._rng
        event_id = self._next_id("order")
        lines = [
            (f"SKU-{rng.randrange(10_000):05d}", rng.randint(1, 5), round(rng.uniform(1, 250), 2))
            for _ in range(rng.randint(1, 4))
        ]
        items = [{"sku": sku, "quantity": qty, "unit_price": price} for sku, qty, price in lines]
        total = round(sum(qty * price for _, qty, price in lines), 2)
        order_number = event_id.rsplit("-", 1)[1]
        body = {
            "specversion": "1.0",
            "id": event_id,
            "source": "//shop.bqingest.example/orders",
            "type": ORDER_CREATED,
            "subject": f"orders/{order_number}",
            "time": _iso(self.clock()),
            "datacontenttype": "application/json",
            "data": {
                "order_id": order_number,
                "customer_id": f"cust-{rng.randrange(100_000):06d}",
                "currency": rng.choice(("EUR", "USD", "GBP")),
                "items": items,
                "total": total,
            },
        }
        return OutgoingMessage(
            _json(body),
            {},
            MessageKind.VALID,
            ORDER_CREATED,
            event_id,
            event_source="//shop.bqingest.example/orders",
        )

    def _sensor(self) -> OutgoingMessage:
        rng = self._rng
        event_id = self._next_id("reading")
        device = f"dev-{rng.randrange(500):04d}"
        attributes = {
            "ce-specversion": "1.0",
            "ce-id": event_id,
            "ce-type": SENSOR_READING,
            "ce-source": f"//iot.bqingest.example/devices/{device}",
            "ce-time": _iso(self.clock()),
            "content-type": "application/json",
        }
        data = {
            "device_id": device,
            "temperature_c": round(rng.gauss(21, 4), 2),
            "humidity_pct": round(rng.uniform(20, 80), 1),
            "battery_v": round(rng.uniform(3.2, 4.2), 3),
        }
        return OutgoingMessage(
            _json(data),
            attributes,
            MessageKind.VALID,
            SENSOR_READING,
            event_id,
            event_source=attributes["ce-source"],
        )

    def _page_view(self) -> OutgoingMessage:
        rng = self._rng
        event_id = self._next_id("view")
        path = rng.choice(("/", "/pricing", "/docs/start", "/blog/streaming", "/cart"))
        body = {
            "specversion": "1.0",
            "id": event_id,
            "source": "//web.bqingest.example",
            "type": PAGE_VIEWED,
            "time": _iso(self.clock()),
            "datacontenttype": "application/json",
            "dataschema": "https://schemas.bqingest.example/page-viewed/1.json",
            "region": rng.choice(("eu", "us", "apac")),
            "data": {
                "session_id": f"s-{rng.getrandbits(48):012x}",
                "url": f"https://www.bqingest.example{path}",
                "referrer": rng.choice((None, "https://search.example/", "https://news.example/")),
                "user_agent": rng.choice(("Mozilla/5.0 (X11; Linux)", "Mozilla/5.0 (Macintosh)")),
                "duration_ms": rng.randint(100, 120_000),
            },
        }
        return OutgoingMessage(
            _json(body),
            {},
            MessageKind.VALID,
            PAGE_VIEWED,
            event_id,
            event_source="//web.bqingest.example",
        )

    def _tick(self) -> OutgoingMessage:
        # Cloud Scheduler's Pub/Sub target in binary CloudEvents mode: no ce-id, so the Pub/Sub
        # message id becomes the event id, and the same small body every time.
        attributes = {
            "ce-specversion": "1.0",
            "ce-type": SCHEDULER_TICK,
            "ce-source": SCHEDULER_SOURCE,
            "content-type": "application/json",
        }
        data = {"job": "bqingest-source", "schedule": "*/3 * * * *"}
        return OutgoingMessage(
            _json(data),
            attributes,
            MessageKind.VALID,
            SCHEDULER_TICK,
            None,
            id_from_message=True,
            event_source=SCHEDULER_SOURCE,
        )

    # -- malformed messages --------------------------------------------------------------------

    def _malformed(self) -> OutgoingMessage:
        variant = self._rng.choice(MALFORMED_VARIANTS)
        message: OutgoingMessage = variant(self)
        return message

    def _envelope(self, event_id: str) -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": event_id,
            "source": "//shop.bqingest.example/orders",
            "type": ORDER_CREATED,
            "time": _iso(self.clock()),
            "data": {"order_id": event_id.rsplit("-", 1)[1], "total": 12.5},
        }

    def _bad(
        self, data: bytes, reason: Reason, attributes: dict[str, str] | None = None
    ) -> OutgoingMessage:
        return OutgoingMessage(
            data, attributes or {}, MessageKind.MALFORMED, None, None, expected_reason=reason
        )

    def not_utf8(self) -> OutgoingMessage:
        """A producer that writes Latin-1: ``source`` carries a raw 0xE9."""
        body = _json(self._envelope(self._next_id("bad"))).replace(b"orders", b"commandes-caf\xe9")
        return self._bad(body, Reason.NOT_UTF8)

    def not_json(self) -> OutgoingMessage:
        """A body cut off mid-way (a truncated write)."""
        body = _json(self._envelope(self._next_id("bad")))
        return self._bad(body[: len(body) // 2], Reason.NOT_JSON)

    def not_object(self) -> OutgoingMessage:
        """A batch of events sent as one JSON array."""
        return self._bad(_json([self._envelope(self._next_id("bad"))]), Reason.NOT_OBJECT)

    def missing_type(self) -> OutgoingMessage:
        envelope = self._envelope(self._next_id("bad"))
        del envelope["type"]
        return self._bad(_json(envelope), Reason.MISSING_FIELD)

    def wrong_type(self) -> OutgoingMessage:
        """``time`` as epoch seconds instead of an RFC 3339 string."""
        envelope = self._envelope(self._next_id("bad"))
        envelope["time"] = int(self.clock().timestamp())
        return self._bad(_json(envelope), Reason.WRONG_TYPE)

    def invalid_time(self) -> OutgoingMessage:
        envelope = self._envelope(self._next_id("bad"))
        envelope["time"] = self.clock().strftime("%d/%m/%Y %H:%M")
        return self._bad(_json(envelope), Reason.INVALID_TIME)

    def invalid_id(self) -> OutgoingMessage:
        envelope = self._envelope(self._next_id("bad"))
        envelope["id"] = f"order {envelope['id']}/retry"
        return self._bad(_json(envelope), Reason.INVALID_ID)

    def too_large(self) -> OutgoingMessage:
        """A valid event whose payload pushes the message just over the size limit."""
        envelope = self._envelope(self._next_id("bad"))
        envelope["data"]["notes"] = ""
        padding = self.max_message_bytes - len(_json(envelope)) + 1
        envelope["data"]["notes"] = "x" * max(padding, 1)
        return self._bad(_json(envelope), Reason.TOO_LARGE)

    def schema_violation(self) -> OutgoingMessage:
        """A well-formed event whose data breaks its type's schema: ``total`` sent as text."""
        body = json.loads(self.order_created().data)
        body["data"]["total"] = f"{body['data']['total']:.2f}"
        return self._bad(_json(body), Reason.SCHEMA_VIOLATION)

    def binary_without_specversion(self) -> OutgoingMessage:
        attributes = {
            "ce-id": self._next_id("bad"),
            "ce-type": SENSOR_READING,
            "ce-source": "//iot.bqingest.example/devices/dev-0001",
            "content-type": "application/json",
        }
        return self._bad(b'{"temperature_c": 21.5}', Reason.MISSING_FIELD, attributes)

    def unsupported_specversion(self) -> OutgoingMessage:
        envelope = self._envelope(self._next_id("bad"))
        envelope["specversion"] = "0.3"
        return self._bad(_json(envelope), Reason.UNSUPPORTED_SPECVERSION)

    def unsupported_content_type(self) -> OutgoingMessage:
        attributes = {
            "ce-specversion": "1.0",
            "ce-id": self._next_id("bad"),
            "ce-type": SENSOR_READING,
            "ce-source": "//iot.bqingest.example/devices/dev-0002",
            "content-type": "application/octet-stream",
        }
        return self._bad(b"\x00\x01\x02\x03", Reason.UNSUPPORTED_CONTENT_TYPE, attributes)


MALFORMED_VARIANTS: Final[tuple[Callable[[EventGenerator], OutgoingMessage], ...]] = (
    EventGenerator.not_utf8,
    EventGenerator.not_json,
    EventGenerator.not_object,
    EventGenerator.missing_type,
    EventGenerator.wrong_type,
    EventGenerator.invalid_time,
    EventGenerator.invalid_id,
    EventGenerator.too_large,
    EventGenerator.binary_without_specversion,
    EventGenerator.unsupported_specversion,
    EventGenerator.unsupported_content_type,
    EventGenerator.schema_violation,
)
"""Each way a message can be malformed, with the reason code it must be dead-lettered with."""
