"""Parse + validate + row build on one core, against bare ``json.loads`` of the same messages.

The messages are the source's own mix of event types (both Pub/Sub modes), no faults. Contenders:
``json.loads`` (the baseline); ``process_message`` (what the pipeline runs: ``validate_message``
and ``event_row``); the same built on the contract's reference parser (``parse_message``, a
pydantic model: what ``process_message`` ran before its msgspec fast path); and
``process_message`` plus the proto encoding the sink adds. Target: ratio >= 1.0.

Schema validation (the registry's check of ``data``) is measured side by side, on CPU time:
``process_message`` with the registry as shipped (msgspec types generated from the schemas as a
fast accept, ``jsonschema_rs`` for the rest), with ``jsonschema_rs`` alone, and with ``msgspec``
types written by hand for the four demo schemas (types and required fields only: a lower bound).
Target: the registry adds at most 30 % to ``process_message``'s time.

Two ways of timing them, both printed:

* **bundles**: the messages in bundles of ``BUNDLE`` whose results are dropped after each bundle,
  as a pipeline drops a bundle's elements. Every round times each contender once, in turn (so all
  see the same machine), after a full garbage collection; each ratio is the median of the
  per-round ratios. Steady from run to run: the figure to compare.
* **whole list** (the method of the earliest figures): each contender's results for all
  the messages are kept until its round ends, and its rounds run one after the other. The
  collector's work on those kept results falls on whichever contender is running, so the ratio
  moves by tens of percent between runs (docs/performance.md).
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

import msgspec

from bqingest.contract import ContractError, MessageContext, Reason, event_row, parse_message
from bqingest.contract.registry import SchemaRegistry
from bqingest.contract.schema import DEAD_LETTERS, EVENTS
from bqingest.pipeline.processing import Destination, ReceivedMessage, process_message
from bqingest.pipeline.proto_rows import schema_for
from bqingest.source.generator import EventGenerator

MESSAGES = 20_000
BUNDLE = 500
ROUNDS = 9
LIST_ROUNDS = 7
NOW = datetime(2026, 11, 29, 7, tzinfo=UTC)
MAX_BYTES = 1024 * 1024
TARGET = 1.0
VALIDATION_TARGET = 0.30
"""At most this much added to process_message's time by the registry's check of data."""


def messages(count: int = MESSAGES) -> list[ReceivedMessage]:
    generated = EventGenerator(seed=2026, clock=lambda: NOW).batch(count)
    return [
        ReceivedMessage(m.data, m.attributes, f"{n:016d}", NOW) for n, m in enumerate(generated)
    ]


def _median_seconds(work: Callable[[], object], rounds: int = LIST_ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def interleaved(
    contenders: dict[str, Callable[[], object]],
    rounds: int = ROUNDS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Seconds per round of each contender, timed in turn within every round."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for work in contenders.values():  # warm up: imports, caches, first allocations
        work()
    for _ in range(rounds):
        for name, work in contenders.items():
            gc.collect()  # every contender starts from the same heap and collector counts
            started = clock()
            work()
            times[name].append(clock() - started)
    return times


Contender = Callable[[list[ReceivedMessage]], list[object]]


class _Item(msgspec.Struct):
    sku: str
    quantity: int
    unit_price: float


class _Order(msgspec.Struct):
    order_id: str
    customer_id: str
    currency: str
    items: list[_Item]
    total: float


class _Reading(msgspec.Struct):
    device_id: str
    temperature_c: float
    humidity_pct: float | msgspec.UnsetType = msgspec.UNSET
    battery_v: float | msgspec.UnsetType = msgspec.UNSET


class _View(msgspec.Struct):
    session_id: str
    url: str
    referrer: str | msgspec.UnsetType | None = msgspec.UNSET
    user_agent: str | msgspec.UnsetType = msgspec.UNSET
    duration_ms: int | msgspec.UnsetType = msgspec.UNSET


class _Tick(msgspec.Struct):
    job: str
    schedule: str | msgspec.UnsetType = msgspec.UNSET


class MsgspecTypes:
    """The registry's ``check`` done by msgspec types for the demo schemas (no minimum, enum or
    format checks: a lower bound on what generated types would cost)."""

    _TYPES: Final = {
        "com.bqingest.shop.order.created": _Order,
        "com.bqingest.iot.sensor.reading": _Reading,
        "com.bqingest.web.page.viewed": _View,
        "com.bqingest.scheduler.tick": _Tick,
    }

    def check(self, event_type: str, dataschema: str | None, data: object) -> None:
        kind = self._TYPES.get(event_type)
        if kind is None:
            return
        try:
            msgspec.convert(data, kind)
        except msgspec.ValidationError as exc:
            raise ContractError(Reason.SCHEMA_VIOLATION, str(exc)) from None


def _contenders() -> dict[str, Contender]:
    """Each contender as a function of a list of messages, returning its results."""
    schemas = {
        Destination.EVENTS: schema_for(EVENTS),
        Destination.DEAD_LETTERS: schema_for(DEAD_LETTERS),
    }

    registry = SchemaRegistry.load()

    def validated(part: list[ReceivedMessage]) -> list[object]:
        return [process_message(m, max_bytes=MAX_BYTES, now=NOW, schemas=registry) for m in part]

    def bare(part: list[ReceivedMessage]) -> list[object]:
        return [json.loads(m.data) for m in part]

    def ours(part: list[ReceivedMessage]) -> list[object]:
        return [process_message(m, max_bytes=MAX_BYTES, now=NOW) for m in part]

    def reference(part: list[ReceivedMessage]) -> list[object]:
        rows: list[object] = []
        for m in part:
            assert m.message_id is not None and m.publish_time is not None
            context = MessageContext(m.message_id, m.publish_time, m.attributes)
            event = parse_message(m.data, context, max_bytes=MAX_BYTES)
            rows.append(event_row(event, context, ingested_at=NOW))
        return rows

    def ours_and_encode(part: list[ReceivedMessage]) -> list[object]:
        rows = (process_message(m, max_bytes=MAX_BYTES, now=NOW) for m in part)
        return [schemas[r.destination].encode(r.row) for r in rows]

    return {
        "json_loads": bare,
        "parse_validate_row": ours,
        "with_schema_registry": validated,
        "reference_parser_row": reference,
        "parse_validate_row_encode": ours_and_encode,
    }


def measure(count: int = MESSAGES) -> dict[str, dict[str, float]]:
    """Per contender: events/s and ratio to json.loads, in bundles and over the whole list."""
    batch = messages(count)
    registry = SchemaRegistry.load()
    valid = all(
        process_message(m, max_bytes=MAX_BYTES, now=NOW, schemas=registry).destination
        is Destination.EVENTS
        for m in batch
    )
    assert valid, "benchmark input must be valid"
    contenders = _contenders()
    bundles = [batch[i : i + BUNDLE] for i in range(0, len(batch), BUNDLE)]

    def in_bundles(work: Contender) -> Callable[[], None]:
        def run() -> None:
            for bundle in bundles:
                work(bundle)

        return run

    times = interleaved({name: in_bundles(work) for name, work in contenders.items()})
    whole = {name: _median_seconds(partial(work, batch)) for name, work in contenders.items()}
    baseline = times["json_loads"]
    unvalidated = times["parse_validate_row"]
    return {
        name: {
            "rate": count / statistics.median(seconds),
            "ratio": statistics.median(b / s for b, s in zip(baseline, seconds, strict=True)),
            # time added to process_message, paired within each round (same machine state)
            "added": statistics.median(
                s / u - 1 for u, s in zip(unvalidated, seconds, strict=True)
            ),
            "list_rate": count / whole[name],
            "list_ratio": whole["json_loads"] / whole[name],
        }
        for name, seconds in times.items()
    }


VALIDATION_ROUNDS = 25


def validation_overhead(count: int = 5_000) -> dict[str, float]:
    """What each way of checking data adds to ``process_message``: CPU time of the process (the
    other work on the machine moves wall time by more than the effect), bundles of ``BUNDLE``,
    ``VALIDATION_ROUNDS`` interleaved rounds, median of the rounds' paired ratios."""
    batch = messages(count)
    registry = SchemaRegistry.load()
    documents = SchemaRegistry(registry.schemas, fast_accept=False)
    types: Any = MsgspecTypes()
    bundles = [batch[i : i + BUNDLE] for i in range(0, len(batch), BUNDLE)]

    def run(schemas: Any) -> Callable[[], None]:
        def work() -> None:
            for bundle in bundles:
                [process_message(m, max_bytes=MAX_BYTES, now=NOW, schemas=schemas) for m in bundle]

        return work

    times = interleaved(
        {
            "none": run(None),
            "registry": run(registry),
            "jsonschema_rs_alone": run(documents),
            "msgspec_hand_types": run(types),
        },
        rounds=VALIDATION_ROUNDS,
        clock=time.process_time,
    )
    return {
        name: statistics.median(s / u - 1 for u, s in zip(times["none"], seconds, strict=True))
        for name, seconds in times.items()
        if name != "none"
    } | {"none_us": statistics.median(times["none"]) / count * 1e6}


def main() -> None:
    overhead = validation_overhead()
    print(
        f"Schema validation added to process_message ({overhead['none_us']:.2f} us/message "
        f"without), CPU time, {VALIDATION_ROUNDS} interleaved rounds, median paired ratio:"
    )
    for name in ("registry", "jsonschema_rs_alone", "msgspec_hand_types"):
        verdict = "met" if overhead[name] <= VALIDATION_TARGET else "MISSED"
        print(f"  {name:<20} {overhead[name]:+.1%} (target <= {VALIDATION_TARGET:.0%}: {verdict})")
    figures = measure()
    print(
        f"{MESSAGES} messages of the source's mix, one core. Bundles of {BUNDLE}: {ROUNDS} "
        f"interleaved rounds, medians; whole list: {LIST_ROUNDS} rounds each, medians"
    )
    print(f"  {'':<28} {'bundles':>14} {'ratio':>7}   {'whole list':>14} {'ratio':>7}")
    for name, figure in figures.items():
        print(
            f"  {name:<28} {figure['rate']:>9,.0f} ev/s {figure['ratio']:>7.3f}   "
            f"{figure['list_rate']:>9,.0f} ev/s {figure['list_ratio']:>7.3f}"
        )
    ours = figures["parse_validate_row"]
    for label, ratio in (("bundles", ours["ratio"]), ("whole list", ours["list_ratio"])):
        verdict = "met" if ratio >= TARGET else "MISSED"
        print(
            f"parse+validate+row build / json.loads, {label}: {ratio:.3f} "
            f"(target >= {TARGET}: {verdict})"
        )
    added = figures["with_schema_registry"]["added"]
    print(
        f"schema registry on process_message, wall time in bundles: {added:+.1%} "
        "(median of the rounds' paired ratios; the CPU figure above is the steadier)"
    )
    reference = figures["reference_parser_row"]
    print(
        f"process_message against the reference parser: {ours['rate'] / reference['rate']:.2f}x "
        f"as fast (bundles), {ours['list_rate'] / reference['list_rate']:.2f}x (whole list)"
    )


if __name__ == "__main__":
    main()
