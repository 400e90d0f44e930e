"""Parse + validate + row build on one core, against bare ``json.loads`` of the same messages.

The messages are the source's own mix of event types (both Pub/Sub modes), no faults. Contenders:
``json.loads`` (the baseline); ``process_message`` (what the pipeline runs: ``validate_message``
and ``event_row``); the same built on the contract's reference parser (``parse_message``, a
pydantic model: what ``process_message`` ran before its msgspec fast path); and
``process_message`` plus the proto encoding the sink adds. Target: ratio >= 1.0.

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

from bqingest.contract import MessageContext, event_row, parse_message
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
    contenders: dict[str, Callable[[], object]], rounds: int = ROUNDS
) -> dict[str, list[float]]:
    """Seconds per round of each contender, timed in turn within every round."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for work in contenders.values():  # warm up: imports, caches, first allocations
        work()
    for _ in range(rounds):
        for name, work in contenders.items():
            gc.collect()  # every contender starts from the same heap and collector counts
            started = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - started)
    return times


Contender = Callable[[list[ReceivedMessage]], list[object]]


def _contenders() -> dict[str, Contender]:
    """Each contender as a function of a list of messages, returning its results."""
    schemas = {
        Destination.EVENTS: schema_for(EVENTS),
        Destination.DEAD_LETTERS: schema_for(DEAD_LETTERS),
    }

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
        "reference_parser_row": reference,
        "parse_validate_row_encode": ours_and_encode,
    }


def measure(count: int = MESSAGES) -> dict[str, dict[str, float]]:
    """Per contender: events/s and ratio to json.loads, in bundles and over the whole list."""
    batch = messages(count)
    valid = all(
        process_message(m, max_bytes=MAX_BYTES, now=NOW).destination is Destination.EVENTS
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
    return {
        name: {
            "rate": count / statistics.median(seconds),
            "ratio": statistics.median(b / s for b, s in zip(baseline, seconds, strict=True)),
            "list_rate": count / whole[name],
            "list_ratio": whole["json_loads"] / whole[name],
        }
        for name, seconds in times.items()
    }


def main() -> None:
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
    reference = figures["reference_parser_row"]
    print(
        f"process_message against the reference parser: {ours['rate'] / reference['rate']:.2f}x "
        f"as fast (bundles), {ours['list_rate'] / reference['list_rate']:.2f}x (whole list)"
    )


if __name__ == "__main__":
    main()
